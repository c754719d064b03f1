package engine

import (
	"os"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
)

// matchFile maps the source file and runs the block search over it. A read
// fault while mapped is returned as readErr, with the delta still complete
// (zero-filled), so the caller can spoil the checksum and keep the stream in
// step. rsync: sender.c send_files (map_file, match_sums).
func matchFile(m *delta.Matcher, tw delta.TokenWriter, f *os.File, sums *delta.Sums) (res delta.MatchResult, readErr, err error) {
	st, err := f.Stat()
	if err != nil {
		return res, nil, err
	}
	mf, err := fastio.Map(f, st.Size())
	if err != nil {
		return res, nil, err
	}
	defer mf.Close()
	gerr := fastio.Guard(func() error {
		var merr error
		res, merr = m.Match(tw, mf.Data, sums)
		return merr
	})
	if gerr == fastio.ErrFault {
		return res, gerr, gerr
	}
	return res, nil, gerr
}

// CountList adds a file list's per-type counts and total size to st.
func CountList(l *flist.List, st *Stats) {
	c := l.Counts()
	st.NumFiles += int64(c.Files)
	st.NumDirs += int64(c.Dirs)
	st.NumSymlinks += int64(c.Symlinks)
	st.NumDevices += int64(c.Devices)
	st.NumSpecials += int64(c.Specials)
	st.TotalSize += c.TotalSize
}
