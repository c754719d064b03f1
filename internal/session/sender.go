package session

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/options"
)

// sendSide builds and sends the file list, then serves file requests.
// rsync: main.c do_server_sender, client_run; flist.c send_file_list
func sendSide(c *engine.Conn, eo *engine.Options, srcs []string, server bool, wf *walkFilter, ff *filesFrom) (*Stats, error) {
	proto := c.Session.Protocol
	fo := flistOptions(c.Session, eo)
	buildStart := time.Now()
	wo, srcs := walkOptions(c, eo, srcs, wf, ff)
	var sums *engine.FileSums
	switch {
	case eo.AlwaysChecksum && eo.IO.On(fastio.Parallel):
		// Workers sum the files while the walk goes on; the list waits
		// for them before it is sent.
		sums = engine.NewFileSums(c.Session.FileParams(), fo.ChecksumLen)
		wo.ChecksumLen = fo.ChecksumLen
		wo.Checksum = func(fd int) ([]byte, error) { return sums.Start(fd), nil }
	case eo.AlwaysChecksum:
		params := c.Session.FileParams()
		fh := checksum.NewFileHasher(params)
		sumBuf := make([]byte, 256<<10)
		wo.ChecksumLen = fo.ChecksumLen
		wo.Checksum = func(fd int) ([]byte, error) {
			defer syscall.Close(fd)
			sum, err := engine.HashFD(fh, params, fd, -1, sumBuf, nil)
			if err != nil {
				return nil, err
			}
			return sum[:fo.ChecksumLen], nil
		}
	}
	inc := c.Session.IncRecurse()
	if !server {
		logOnly(c, "building file list\n") // rsync: flist.c send_file_list
	}
	progress := !server && eo.Info.Flist > 0 && !eo.Quiet
	switch {
	case progress && inc:
		// rsync: flist.c send_file_list
		clientOnly(c, "sending incremental file list\n")
	case progress:
		// Without incremental recursion rsync announces the whole list.
		clientOnly(c, "building file list ... ")
	}
	s := &engine.Sender{Conn: c, Opts: eo}
	ls, err := s.StartFileList(&fo)
	if err != nil {
		return nil, err
	}
	if sums == nil {
		// Each entry goes out as the walk makes it, as in rsync, and the
		// receiver decodes meanwhile; sums computed ahead would not be
		// there yet.
		wo.Added = ls.Add
	} else {
		defer sums.Wait()
	}
	var list *flist.List
	if inc {
		// The first list now; the walk makes each directory's as the
		// sender needs it (flist.IncWalk).
		var walk *flist.IncWalk
		walk, list, err = flist.StartIncremental(srcs, wo, proto)
		if err == nil {
			defer walk.Close()
			s.Walk = walk
			if sums != nil {
				s.Walk = summedWalk{walk, sums}
			}
		}
	} else {
		list, err = flist.Build(srcs, wo)
	}
	if sums != nil {
		sums.Sync()
	}
	if err != nil {
		return nil, err
	}
	switch {
	case inc && eo.Hooks.FirstListed != nil:
		eo.Hooks.FirstListed()
	case !inc && eo.Hooks.Listed != nil:
		// With incremental recursion the sender runs it at the end of
		// the walk.
		eo.Hooks.Listed()
	}
	ioErr := list.IOError
	// rsync reports at least 1 ms. rsync: flist.c send_file_list
	s.Stats.FlistBuildTime = max(1, time.Since(buildStart).Milliseconds())
	src := flist.NewSource(list)
	defer src.Close()
	s.Open = src.Open
	if eo.Select.RemoveSource != engine.KeepSource {
		c.OnSuccess = (&engine.SuccessHandler{File: s.FileEntry, Opts: eo, Conn: c, Source: src}).Handle
	}
	if sums != nil {
		for _, e := range list.Entries {
			if err := ls.Add(e); err != nil {
				return nil, err
			}
		}
	}
	if err := ls.End(ioErr); err != nil {
		return nil, err
	}
	// -q drops "done" from the terminal only: the log file has it.
	// rsync: log.c rwrite
	if !server && eo.Info.Flist > 0 && !inc {
		c.Log.Info("done\n")
	}
	list.SortAndClean(proto, false)
	engine.CountList(list, &s.Stats)
	uncountMissing(list, &s.Stats)
	if err := s.ListSent(list); err != nil {
		return nil, err
	}
	if len(list.Entries) == 0 && server {
		// rsync's server sender stops once an empty list is out.
		// rsync: main.c do_server_sender
		return &s.Stats, c.Result(ioErr)
	}
	err = s.Run(server)
	s.Stats.TotalWritten, s.Stats.TotalRead = c.BytesWritten(), c.BytesRead()
	return &s.Stats, err
}

// summedWalk is an incremental walk whose --checksum sums are computed on
// workers (engine.FileSums): a list goes out once its sums are in.
type summedWalk struct {
	*flist.IncWalk
	sums *engine.FileSums
}

func (w summedWalk) Next() (*flist.List, *flist.Entry, error) {
	l, d, err := w.IncWalk.Next()
	w.sums.Sync()
	return l, d, err
}

// uncountMissing takes the --delete-missing-args entries (mode 0) out of
// the sender's special-file count: rsync's sender counts them as no type,
// so its --stats shows them among the regular files (its receiver counts
// them as specials). rsync: flist.c send_file_entry
func uncountMissing(list *flist.List, st *Stats) {
	for _, e := range list.Entries {
		if e.Mode == 0 {
			st.NumSpecials--
		}
	}
}

// reportProblem prints a walk problem as rsync's sender does.
func reportProblem(c *engine.Conn, p flist.Problem) {
	log := c.Log
	msg := p.Msg
	if p.Err != nil {
		msg += ": " + strerror(p.Err)
	}
	switch p.Severity {
	case flist.SeverityInfo:
		log.Info(msg + "\n")
	case flist.SeverityWarning:
		log.Warning(options.ProgName + ": [sender] " + msg + "\n")
	default:
		c.XferError(options.ProgName + ": [sender] " + msg + "\n")
	}
}

// strerror formats an errno as C's strerror with rsync's " (N)" suffix.
func strerror(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		s := en.Error()
		if s != "" {
			s = strings.ToUpper(s[:1]) + s[1:]
		}
		return fmt.Sprintf("%s (%d)", s, int(en))
	}
	return err.Error()
}
