package engine

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/report"
	"github.com/gorsync/gorsync/internal/wire"
	"golang.org/x/sys/unix"
)

// SelectOptions are the receiver-side overrides that choose which entries
// are updated, the listing mode, and the removal of sent source files.
type SelectOptions struct {
	// MaxSize and MinSize are --max-size and --min-size in bytes, or -1.
	MaxSize, MinSize int64
	// IgnoreNonExisting is --existing; IgnoreExisting is --ignore-existing.
	IgnoreNonExisting bool
	IgnoreExisting    bool
	// Update is -u; ModifyWindow is --modify-window (0 compares whole
	// seconds, -1 nanoseconds too).
	Update       bool
	ModifyWindow int
	// RemoveSource says whether the sender removes the source files the
	// receiver has (--remove-source-files, --remove-sent-files).
	RemoveSource RemoveSource
	// LocalServer marks a local copy, whose MSG_SUCCESS carries the
	// destination file's device and inode so the sender never removes the
	// file it just wrote. rsync: io.c send_msg_success (local_server)
	LocalServer bool
	// ListOnly lists the received entries instead of transferring them.
	ListOnly bool
	// Human is rsync's human_readable level for the listing's sizes.
	Human int
	// Mkpath is --mkpath: the destination's missing parents are created.
	Mkpath bool
}

// RemoveSource is rsync's remove_source_files.
type RemoveSource int8

// RemoveSource values.
const (
	KeepSource RemoveSource = iota
	// RemoveSourceFiles removes each source file the receiver reports
	// as in place, and also the unchanged ones (--remove-source-files).
	RemoveSourceFiles
	// RemoveSentFiles removes only files that were sent
	// (--remove-sent-files).
	RemoveSentFiles
)

// sameTime reports whether two mtimes are equal within --modify-window.
// rsync: util1.c same_time
func (o *SelectOptions) sameTime(s1 int64, ns1 uint32, s2 int64, ns2 uint32) bool {
	switch {
	case o.ModifyWindow == 0:
		return s1 == s2
	case o.ModifyWindow < 0:
		return s1 == s2 && ns1 == ns2
	case s2 > s1:
		return s2-s1 <= int64(o.ModifyWindow)
	}
	return s1-s2 <= int64(o.ModifyWindow)
}

// mtimeDiffers compares a destination entry's mtime with the list's.
// rsync: generator.c mtime_differs
func (g *generator) mtimeDiffers(st *fsys.Stat, e *flist.Entry) bool {
	return !g.opts.Select.sameTime(st.Mtime, st.MtimeNsec, e.Mtime, e.MtimeNsec)
}

// skipEntry applies --existing and --ignore-existing to any entry, and the
// skipping of everything below a directory --existing did not create. It
// reports whether the entry is left alone. rsync: generator.c
// recv_generator
func (g *generator) skipEntry(ndx int32, e *flist.Entry, name string, st *fsys.Stat, exists bool) bool {
	o := &g.opts.Select
	if g.skipDir != "" {
		if g.skipDir == "." || strings.HasPrefix(name, g.skipDir+"/") {
			return true
		}
		g.skipDir = ""
	}
	if o.IgnoreNonExisting && !exists {
		kind := "file"
		if e.IsDir() {
			kind = "directory"
			g.skipDir = name
		}
		if g.opts.Info.Skip > 0 {
			g.c.Log.Info(fmt.Sprintf("not creating new %s %q\n", kind, name))
		}
		return true
	}
	if o.IgnoreExisting && exists && (!e.IsDir() || !st.IsDir()) {
		if g.opts.Info.Skip > 0 {
			g.c.Log.Info(fmt.Sprintf("%s exists%s\n", name, g.existsSuffix(ndx, e, name, st)))
		}
		return true
	}
	return false
}

// existsSuffix is what --info=skip2 adds to an "exists" line: how the
// destination entry differs. rsync: generator.c recv_generator
// (ignore_existing)
func (g *generator) existsSuffix(ndx int32, e *flist.Entry, name string, st *fsys.Stat) string {
	if g.opts.Info.Skip < 2 {
		return ""
	}
	same := true
	switch {
	case fileType(e.Type()) != fileType(st.Type()):
		return " (type change)"
	case e.IsRegular():
		same = g.quickCheck(ndx, e, name, st)
	case e.IsSymlink():
		target, err := g.root.Readlink(name)
		same = err == nil && target == e.LinkTarget()
	case e.IsDevice():
		same = st.Rdev == unix.Mkdev(e.Rdev())
	}
	switch {
	case !same && g.opts.AlwaysChecksum:
		return " (sum change)"
	case !same:
		return " (file change)"
	case g.attrsFor(e, st, true, true).Set != 0:
		return " (attr change)"
	}
	return " (uptodate)"
}

// fileType folds a file type into rsync's kinds, where FIFOs and sockets
// are one (special) and character and block devices another.
// rsync: generator.c get_file_type
func fileType(t uint32) uint32 {
	switch t {
	case unix.S_IFIFO, unix.S_IFSOCK:
		return unix.S_IFIFO
	case unix.S_IFBLK, unix.S_IFCHR:
		return unix.S_IFCHR
	}
	return t
}

// skipRegular applies --max-size, --min-size and -u to a regular file; the
// redo phase ignores them. rsync: generator.c recv_generator
func (g *generator) skipRegular(e *flist.Entry, name string, st *fsys.Stat, exists bool) bool {
	o := &g.opts.Select
	say := func(what string) {
		if g.opts.Info.Skip > 0 {
			g.c.Log.Info(name + what + "\n")
		}
	}
	if o.MaxSize >= 0 && e.Size > o.MaxSize {
		say(" is over max-size")
		return true
	}
	if o.MinSize >= 0 && e.Size < o.MinSize {
		say(" is under min-size")
		return true
	}
	if o.Update && exists && st.IsRegular() && e.Mtime-st.Mtime < int64(o.ModifyWindow) {
		say(" is newer")
		return true
	}
	return false
}

// succeeded tells the sender that an entry is in place at the destination,
// so that --remove-source-files may remove its source; rsync's generator
// forwards its receiver's MSG_SUCCESS the same way. rsync: io.c
// send_msg_success
func (c *Conn) succeeded(o *Options, root *fsys.Root, name string, ndx int32) {
	if o.Select.RemoveSource == KeepSource || o.DryRun {
		return
	}
	if !o.Select.LocalServer {
		c.sendMux(wire.MsgSuccess, binary.LittleEndian.AppendUint32(nil, uint32(ndx)))
		return
	}
	b := binary.LittleEndian.AppendUint32(make([]byte, 0, 20), uint32(ndx))
	var dev, ino uint64
	if root != nil {
		if st, err := root.LstatT(name); err == nil {
			dev, ino = st.Dev, st.Ino
		}
	}
	b = binary.LittleEndian.AppendUint64(b, dev)
	b = binary.LittleEndian.AppendUint64(b, ino)
	c.sendMux(wire.MsgSuccess, b)
}

// sendMux writes a message straight to the multiplexer, without flushing
// the data another goroutine may be buffering: MSG_SUCCESS needs no order
// with the data stream, only to arrive before the run's end.
func (c *Conn) sendMux(code wire.MsgCode, p []byte) {
	if c.Mux != nil {
		c.Mux.WriteMsg(code, p)
	}
}

// SuccessHandler is the sender's side of --remove-source-files: it removes
// a source file the receiver reports in place, if the file has not
// changed since it was listed. rsync: sender.c successful_send
type SuccessHandler struct {
	// File returns the live file entry at an index (Sender.FileEntry).
	File func(ndx int32) (*flist.Entry, error)
	Opts *Options
	Conn *Conn
	// Source reaches the entries' files on disk.
	Source *flist.Source
}

// Handle acts on one MSG_SUCCESS payload.
func (h *SuccessHandler) Handle(p []byte) error {
	want := 4
	if h.Opts.Select.LocalServer {
		want = 20
	}
	if len(p) != want {
		return fmt.Errorf("invalid multi-message %d:%d: %w", wire.MsgSuccess, len(p), wire.ErrProtocol)
	}
	if h.Opts.Select.RemoveSource == KeepSource {
		return nil
	}
	ndx := int32(binary.LittleEndian.Uint32(p))
	e, err := h.File(ndx)
	if ndx < 0 || err != nil {
		return fmt.Errorf("invalid file index %d in MSG_SUCCESS: %w", ndx, wire.ErrProtocol)
	}
	name := e.Name()
	c := h.Conn
	// The file is found as the sender found it to send it: beneath its
	// directory, through no symbolic link (flist.Source), so a directory
	// swapped for one meanwhile cannot make it remove a file elsewhere.
	// rsync: sender.c successful_send (sender_confined_parent)
	st, err := h.Source.Lstat(e)
	if err != nil {
		h.failed("re-lstat", name, err)
		return nil
	}
	if want == 20 {
		dev, ino := binary.LittleEndian.Uint64(p[4:]), binary.LittleEndian.Uint64(p[12:])
		if st.Dev == dev && st.Ino == ino {
			c.XferError(fmt.Sprintf("ERROR: Skipping sender remove of destination file: %s\n", name))
			return nil
		}
	}
	if st.Size != e.Size || st.Mtime != e.Mtime || (e.MtimeNsec != 0 && st.MtimeNsec != e.MtimeNsec) {
		c.XferError(fmt.Sprintf("ERROR: Skipping sender remove for changed file: %s\n", name))
		return nil
	}
	if err := h.Source.Remove(e); err != nil {
		h.failed("remove", name, err)
		return nil
	}
	if h.Opts.Info.Remove > 0 {
		c.Log.Info(fmt.Sprintf("sender removed %s\n", name))
	}
	return nil
}

func (h *SuccessHandler) failed(op, name string, err error) {
	if os.IsNotExist(err) {
		h.Conn.Log.Info(fmt.Sprintf("sender file already removed: %s\n", name))
		return
	}
	h.Conn.XferError(fmt.Sprintf("rsync: [sender] sender failed to %s %s: %v\n", op, name, unwrapPathErr(err)))
}

// listEntry prints one entry as rsync's list-only mode does:
// permissions, size, mtime, name and a symlink's target.
// rsync: generator.c list_file_entry
func (g *generator) listEntry(e *flist.Entry) {
	o := &g.opts.Select
	width := 11
	if o.Human > 0 {
		width = 14
	}
	var b strings.Builder
	b.WriteString(report.PermString(e.Mode))
	fmt.Fprintf(&b, " %*s %s %s", width, report.HumanNum(e.Size, o.Human), report.TimeString(e.Mtime), e.Name())
	if g.opts.Links && e.IsSymlink() {
		b.WriteString(" -> ")
		b.WriteString(e.LinkTarget())
	}
	b.WriteByte('\n')
	g.c.Log.Info(b.String())
}
