package engine

import (
	"errors"
	"io"
	"os"
	"sync"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
)

// matchFile sends the source file f as a delta against sums, or, when there
// are none (a whole-file transfer), as literal data streamed through an
// adaptive buffer, never mapped. A block search reads a mapping of the file
// when it is large enough (fastio.MapFile), else a window read into a
// pooled buffer.
//
// A read that fails is rsync's "read errors mapping": the missing bytes go
// out as zeros and the failure comes back as readErr, with the delta
// complete and the stream in step, for the caller to spoil the whole-file
// checksum (the receiver then discards the file and asks again). A mapping
// faults instead of failing a read (the file was truncated underneath it):
// the fault is recovered, what the search had not sent yet goes out as
// zeros, and readErr is fastio.ErrFault.
//
// rsync: sender.c send_files (map_file, match_sums, unmap_file)
func matchFile(o *Options, m *delta.Matcher, tw delta.TokenWriter, f *os.File, sums *delta.Sums) (res delta.MatchResult, readErr, err error) {
	st, err := f.Stat()
	if err != nil {
		return res, nil, err
	}
	access := fastio.Sequential
	if sums.Head.Count == 0 {
		access = fastio.Stream
	}
	search := func(tw delta.TokenWriter, mf *fastio.MapFile) (delta.MatchResult, error) {
		return m.MatchSource(tw, mf, mf.Size(), sums)
	}
	return sendView(o, m, tw, f, st.Size(), access, true, search)
}

// sendView sends the first size bytes of f through a view opened with
// access: search writes the file's tokens to the TokenWriter it is given,
// reading the file through the view, and returns what they sent.
// Read errors and faults are handled as matchFile says. hook runs
// o.Hooks.Mapped once the view is open. m serves the spoiled sum after a
// fault.
func sendView(o *Options, m *delta.Matcher, tw delta.TokenWriter, f *os.File, size int64, access fastio.Access, hook bool,
	search func(delta.TokenWriter, *fastio.MapFile) (delta.MatchResult, error)) (res delta.MatchResult, readErr, err error) {
	mf, err := o.IO.Open(f, size, access)
	if err != nil {
		return res, nil, err
	}
	defer mf.Close()
	if hook && o.Hooks.Mapped != nil {
		o.Hooks.Mapped(f.Name(), mf.Mapped())
	}
	if !mf.Mapped() {
		res, err = search(tw, mf)
		return res, mf.Err(), err
	}

	// Tokens take their data from a copy, made under the guard, so that
	// a fault leaves tw untouched and the stream whole.
	stage := stagers.Get().(*stagedTokens)
	defer func() {
		stage.tw = nil
		stagers.Put(stage)
	}()
	_, plain := tw.(*delta.PlainTokenWriter)
	*stage = stagedTokens{tw: tw, match: !plain, buf: stage.buf}
	gerr := fastio.Guard(func() error {
		var merr error
		res, merr = search(stage, mf)
		return merr
	})
	if !errors.Is(gerr, fastio.ErrFault) {
		return res, nil, gerr
	}
	// rsync: fileio.c map_ptr zero-fills what it cannot read.
	zeros := make([]byte, delta.ChunkSize)
	for left := mf.Size() - stage.sent; left > 0; left -= delta.ChunkSize {
		if err := tw.WriteToken(zeros[:min(left, delta.ChunkSize)], delta.TokenLiteral, nil); err != nil {
			return res, gerr, err
		}
	}
	if !stage.ended {
		if err := tw.WriteToken(nil, delta.TokenEnd, nil); err != nil {
			return res, gerr, err
		}
	}
	// The caller spoils the sum; any of the right length will do.
	empty, err := m.Match(discardTokens{}, nil, &delta.Sums{})
	if err != nil {
		return res, gerr, err
	}
	res = delta.MatchResult{Literal: stage.literal + mf.Size() - stage.sent, Matched: stage.matched, Sum: empty.Sum}
	return res, gerr, nil
}

// stagedTokens passes tokens on to tw with their data copied out of the
// mapping first, so that a fault (the file truncated underneath) strikes
// before tw is touched; it counts the file bytes the tokens passed on
// cover.
type stagedTokens struct {
	tw    delta.TokenWriter
	match bool // tw reads the matched data too (zlib keeps it as history)
	buf   *fastio.Buffer

	sent, literal, matched int64
	ended                  bool // TokenEnd has gone
}

var stagers = sync.Pool{New: func() any { return new(stagedTokens) }}

// WriteToken implements delta.TokenWriter.
func (s *stagedTokens) WriteToken(lit []byte, tok int32, match []byte) error {
	n := len(lit)
	if s.match {
		n += len(match)
	}
	if s.buf == nil || len(s.buf.B) < n {
		fastio.PutBuffer(s.buf)
		s.buf = fastio.GetBuffer(n)
	}
	l := s.buf.B[:copy(s.buf.B, lit)]
	var mm []byte
	if s.match {
		mm = s.buf.B[len(l) : len(l)+copy(s.buf.B[len(l):], match)]
	}
	if err := s.tw.WriteToken(l, tok, mm); err != nil {
		return err
	}
	s.literal += int64(len(lit))
	s.matched += int64(len(match))
	s.sent += int64(len(lit) + len(match))
	s.ended = tok == delta.TokenEnd
	return nil
}

// basisView is the receiver's view of its basis file for block reads.
type basisView struct {
	f  *os.File
	mf *fastio.MapFile
}

// openBasis opens a view of the basis file f (nil: none) for reads of its
// blocks in any order: a mapping when it is large, else a pooled read
// window (fastio.MapFile, Random). If f cannot be stat'ed, the reads go to
// f itself. A read that fails, or faults because the basis was truncated,
// is zero-filled by the receiver and fails the file's checksum, so that
// the file is redone.
func openBasis(io fastio.Config, f *os.File) basisView {
	if f == nil {
		return basisView{}
	}
	st, err := f.Stat()
	if err != nil {
		return basisView{f: f}
	}
	mf, err := io.Open(f, st.Size(), fastio.Random)
	if err != nil {
		return basisView{f: f}
	}
	return basisView{f: f, mf: mf}
}

// reader is the view as an io.ReaderAt, nil without a basis (never a typed
// nil).
func (b basisView) reader() io.ReaderAt {
	switch {
	case b.mf != nil:
		return b.mf
	case b.f != nil:
		return b.f
	}
	return nil
}

// close releases the view, not the file.
func (b basisView) close() {
	if b.mf != nil {
		b.mf.Close()
	}
}

// discardTokens is a TokenWriter that drops everything.
type discardTokens struct{}

func (discardTokens) WriteToken([]byte, int32, []byte) error { return nil }

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
