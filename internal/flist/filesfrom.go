package flist

import (
	"errors"
	"io"
)

// NameReader reads the names of a --files-from list: one per line (or
// NUL-terminated with --from0, and always so when they come over the
// connection). rsync: io.c read_line, flist.c send_file_list
type NameReader struct {
	r io.ByteReader
	// nul ends names at NUL bytes instead of CR or LF (RL_EOL_NULLS).
	nul bool
	// local skips empty lines and "#" or ";" comments (RL_DUMP_COMMENTS),
	// as for a file read on this side; names from the peer end at the
	// first empty one.
	local bool
	// sanitize holds SanitizeKeepDotDirs under --relative, which keeps
	// "." components for its "/./" markers.
	sanitize SanitizeFlags
	buf      []byte
	done     bool
}

// NewNameReader returns a reader of names from r. local is for a file or
// standard input read here (comments and empty lines are skipped, EOF
// ends the list); otherwise the names come from the peer, NUL-terminated,
// and an empty name ends the list. nul is --from0; relative is -R.
func NewNameReader(r io.ByteReader, nul, local, relative bool) *NameReader {
	n := &NameReader{r: r, nul: nul || !local, local: local}
	if relative {
		n.sanitize = SanitizeKeepDotDirs
	}
	return n
}

// Next returns the next name, sanitized as rsync does (SanitizePath: no
// leading slash, no ".." above the source directory), or ok == false at the end of the
// list. A local reader treats any read error as the end of its file, as
// rsync's read_line does; a peer's stream that ends early is an error.
func (n *NameReader) Next() (name string, ok bool, err error) {
	for !n.done {
		n.buf = n.buf[:0]
		eof := false
		for {
			c, err := n.r.ReadByte()
			if err != nil {
				if !n.local {
					if errors.Is(err, io.EOF) {
						err = io.ErrUnexpectedEOF
					}
					return "", false, err
				}
				eof = true
				break
			}
			if n.nul && c == 0 || !n.nul && (c == '\n' || c == '\r') {
				if n.local && len(n.buf) == 0 {
					continue
				}
				break
			}
			if len(n.buf) < MaxPath-1 {
				n.buf = append(n.buf, c)
			}
		}
		if eof {
			n.done = true
		}
		if n.local && len(n.buf) > 0 && (n.buf[0] == '#' || n.buf[0] == ';') {
			continue
		}
		if len(n.buf) == 0 {
			n.done = true
			break
		}
		// rsync: flist.c send_file_list (sanitize_path on each name)
		n.buf = n.buf[:sanitizePath(n.buf, 0, n.sanitize)]
		return string(n.buf), true, nil
	}
	return "", false, nil
}
