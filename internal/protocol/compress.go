package protocol

import "strings"

// DefaultCompressList is rsync's compression preference order; a client
// leaves out "none". rsync: compat.c valid_compressions_items
var DefaultCompressList = []string{"zstd", "lz4", "zlibx", "zlib", "none"}

// CompressList returns the compression names this side offers: the
// RSYNC_COMPRESS_LIST value (a client takes the part before '&', a server the
// part after), known names only, else the default list.
// rsync: compat.c send_negotiate_str, getenv_nstr
func CompressList(env string, amServer bool) []string {
	if amServer {
		if i := strings.IndexByte(env, '&'); i >= 0 {
			env = env[i+1:]
		}
	}
	if i := strings.IndexByte(env, '&'); i >= 0 {
		env = env[:i]
	}
	var out []string
	saw := false
	for _, tok := range strings.Fields(env) {
		saw = true
		t := strings.ToLower(tok)
		if allowed(DefaultCompressList, t) && !allowed(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	if saw {
		return []string{"INVALID"}
	}
	if amServer {
		return append([]string(nil), DefaultCompressList...)
	}
	return append([]string(nil), DefaultCompressList[:len(DefaultCompressList)-1]...)
}

func allowed(list []string, name string) bool {
	for _, n := range list {
		if n == name {
			return true
		}
	}
	return false
}

// chooseName picks the first of our names that the peer also offers.
// rsync: compat.c parse_negotiate_str
func chooseName(local, remote []string) string {
	for _, l := range local {
		if allowed(remote, l) {
			return l
		}
	}
	return ""
}
