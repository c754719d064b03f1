// Package transport connects a client to its peer: it parses rsync's
// host:path argument forms and starts the remote shell that runs the server.
package transport

import (
	"strings"
)

// Location is one command-line path argument, local or remote.
type Location struct {
	User   string // from user@host, empty if none
	Host   string // empty for a local path
	Path   string
	Daemon bool // host::module or rsync://host/module (not yet supported)
	Port   int  // rsync://host:port/, 0 for the default
}

// Remote reports whether the location names another machine.
func (l Location) Remote() bool { return l.Host != "" }

// Parse classifies an argument as rsync does: "host:path", "user@host:path",
// "[v6addr]:path", "host::module" and "rsync://host[:port]/module" are remote;
// anything with a slash before the first colon is a local path.
// rsync: options.c check_for_hostspec and parse_hostspec.
func Parse(arg string) Location {
	const url = "rsync://"
	if len(arg) >= len(url) && strings.EqualFold(arg[:len(url)], url) {
		if host, rest, port, ok := parseHost(arg[len(url):], true); ok {
			user, h := splitUser(host)
			return Location{User: user, Host: h, Path: rest, Daemon: true, Port: port}
		}
	}
	host, rest, _, ok := parseHost(arg, false)
	if !ok {
		return Location{Path: arg}
	}
	user, h := splitUser(host)
	if strings.HasPrefix(rest, ":") {
		return Location{User: user, Host: h, Path: rest[1:], Daemon: true}
	}
	return Location{User: user, Host: h, Path: rest}
}

func splitUser(host string) (user, h string) {
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		return host[:i], host[i+1:]
	}
	return "", host
}

// parseHost finds the host part of s; rest is what follows the host's
// separator. In URL mode a "/" ends the host and ":port" may precede it.
func parseHost(s string, url bool) (host, rest string, port int, ok bool) {
	hostStart, hostLen, userLen := 0, -1, 0
	i := 0
	for ; ; i++ {
		if i == len(s) {
			if !url {
				return "", "", 0, false
			}
			if hostLen < 0 {
				hostLen = i - hostStart
			}
			break
		}
		c := s[i]
		if c == ':' || c == '/' {
			if hostLen < 0 {
				hostLen = i - hostStart
			}
			i++
			if c == '/' {
				if !url {
					return "", "", 0, false
				}
			} else if url {
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					port = port*10 + int(s[i]-'0')
					i++
				}
				if i < len(s) {
					if s[i] != '/' {
						return "", "", 0, false
					}
					i++
				}
			}
			break
		}
		if c == '@' {
			userLen = i + 1
			hostStart = i + 1
		} else if c == '[' {
			if i != hostStart {
				return "", "", 0, false
			}
			hostStart++
			for i < len(s) && s[i] != ']' && s[i] != '/' {
				i++
			}
			hostLen = i - hostStart
			if i >= len(s) || s[i] != ']' || (i+1 < len(s) && s[i+1] != '/' && s[i+1] != ':') || hostLen == 0 {
				return "", "", 0, false
			}
		}
	}
	if hostLen == 0 && userLen == 0 {
		// ":path" has an empty host: rsync treats it as remote with an empty
		// machine name; we keep it local, which is what a user means.
		return "", "", 0, false
	}
	return s[:userLen] + s[hostStart:hostStart+hostLen], s[min(i, len(s)):], port, true
}
