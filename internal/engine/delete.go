package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/wire"
	"golang.org/x/sys/unix"
)

// DeleteMode says whether, and when, the receiver deletes destination
// entries that are not in the sender's list.
type DeleteMode int8

// Delete modes. DeleteAuto is a bare --delete (or --delete-excluded
// alone): before the transfer with protocols below 30, during it from 30,
// as rsync chooses once the protocol is known. rsync: compat.c setup_protocol.
const (
	DeleteOff    DeleteMode = iota
	DeleteAuto              // --delete
	DeleteBefore            // --delete-before
	DeleteDuring            // --delete-during, --del
	DeleteDelay             // --delete-delay
	DeleteAfter             // --delete-after
)

// resolve returns the mode a bare --delete means at protocol.
func (m DeleteMode) resolve(protocol int) DeleteMode {
	if m != DeleteAuto {
		return m
	}
	if protocol < 30 {
		return DeleteBefore
	}
	return DeleteDuring
}

// maxWireDelStat bounds each count of NDX_DEL_STATS. rsync: rsync.h MAX_WIRE_DEL_STAT.
const maxWireDelStat = 1 << 28

// Flags of one deletion. rsync: rsync.h DEL_*.
const (
	delNoUIDWrite = 1 << 0 // the entry needs u+w before it can go
	delRecurse    = 1 << 1 // delete a directory's contents too
	delDirIsEmpty = 1 << 2 // the directory's contents are already gone
	delForFile    = 1 << 3 // making room for a new regular file
	delForDir     = 1 << 4
	delForSymlink = 1 << 5
	delForDevice  = 1 << 6
	delForSpecial = 1 << 7
	delMakeRoom   = delForFile | delForDir | delForSymlink | delForDevice | delForSpecial
)

// delRet is the outcome of one deletion. rsync: rsync.h enum delret.
type delRet int8

const (
	delSuccess delRet = iota
	delFailure
	delAtLimit
	delNotEmpty
)

// delEntry is one destination entry met while deleting.
type delEntry struct {
	name  string // relative to the destination root
	mode  uint32
	uid   uint32
	flags int // for --delete-delay: the deletion's flags
}

// deleter removes what the sender's list does not have, as rsync's
// generator does for every --delete mode: per directory (delete_in_dir),
// in a pass over the whole list (do_delete_pass), or remembered during
// the transfer and done at its end (--delete-delay). Receiver-side filter
// rules, including per-directory merge files read from the destination,
// protect entries from it. rsync: generator.c, delete.c.
type deleter struct {
	g     *generator
	mode  DeleteMode
	filt  *filter.List
	stack *filter.Stack
	// depths are the directory depths pushed on stack by changeFilterDir,
	// innermost last. rsync: exclude.c change_local_filter_dir
	depths []int

	// fatal is a bad rule in a destination merge file: it stops the
	// deletions and, as in rsync, the transfer.
	fatal            error
	warnedIOError    bool
	ignorePerishable bool
	nonPerishable    int
	skipped          int
	delayed          []delEntry
	// stats counts the deletions. They reach the client's --stats only
	// through NDX_DEL_STATS, as in rsync, where the generator that counts
	// them is not the process that reports them.
	stats Stats
}

func newDeleter(g *generator) *deleter {
	d := &deleter{g: g, mode: g.opts.Delete.resolve(g.c.Session.Protocol), filt: g.opts.Filter}
	if d.filt != nil && !d.filt.Empty() && g.root != nil {
		d.stack = d.filt.NewStack(rootFS{g.root})
	} else {
		d.filt = nil
	}
	return d
}

// rootFS reads per-directory merge files from the destination, beneath
// its root.
type rootFS struct{ r *fsys.Root }

// FullPath implements filter.Namer, for messages.
func (f rootFS) FullPath(name string) string {
	return filter.OSFS{Dir: f.r.Path()}.FullPath(name)
}

func (f rootFS) ReadFile(name string) ([]byte, error) {
	if strings.HasPrefix(name, "/") {
		return filter.OSFS{}.ReadFile(name)
	}
	// As for any file rsync reads by name, a link another user owns is
	// not followed.
	file, err := f.r.OpenTrusted(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(file)
}

// depthOf is rsync's F_DEPTH of a directory name: 0 for the transfer root.
func depthOf(name string) int {
	if name == "." || name == "" {
		return 0
	}
	return strings.Count(name, "/") + 1
}

// changeFilterDir makes dir's merge files the innermost ones, dropping
// those of directories at its depth or deeper; "" drops them all.
// rsync: exclude.c change_local_filter_dir
func (d *deleter) changeFilterDir(dir string, depth int) {
	if d.stack == nil {
		return
	}
	for len(d.depths) > 0 && (dir == "" || d.depths[len(d.depths)-1] >= depth) {
		d.stack.Pop()
		d.depths = d.depths[:len(d.depths)-1]
	}
	if dir == "" {
		return
	}
	d.push(dir)
	d.depths = append(d.depths, depth)
}

// push enters dir on the merge-file stack; a bad merge file there is
// fatal. It reports whether the deletions may go on.
func (d *deleter) push(dir string) bool {
	if err := d.stack.Push(dir); err != nil && d.fatal == nil {
		d.fatal = err
	}
	return d.fatal == nil
}

// excluded is rsync's is_excluded on the receiving side: the receiver's
// verdict on a destination name, perishable rules left out while a
// directory is being deleted.
func (d *deleter) excluded(name string, isDir bool) bool {
	if d.filt == nil {
		return false
	}
	return d.stack.CheckSide(name, isDir, filter.ReceiverSide, d.ignorePerishable) == filter.Excluded
}

// dirList lists a destination directory's entries that the filters leave
// deletable, in rsync's sort order. rsync: flist.c get_dirlist
func (d *deleter) dirList(dir string) []delEntry {
	g := d.g
	des, err := g.root.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			g.errorf("rsync: [generator] opendir %q failed: %s\n", dir, errnoText(err))
		}
		return nil
	}
	ents := make([]*flist.Entry, 0, len(des))
	uids := make(map[*flist.Entry]uint32, len(des))
	for _, de := range des {
		name := de.Name()
		if dir != "." {
			name = dir + "/" + name
		}
		st, err := g.root.LstatT(name)
		if err != nil {
			if d.excluded(name, false) || d.excluded(name, true) {
				if d.ignorePerishable && !errors.Is(err, os.ErrNotExist) {
					d.nonPerishable++
				}
			}
			continue
		}
		if d.excluded(name, st.IsDir()) {
			if d.ignorePerishable {
				d.nonPerishable++
			}
			continue
		}
		e := &flist.Entry{Base: de.Name(), Mode: st.Mode}
		if dir != "." {
			e.Dir = dir
		}
		uids[e] = st.UID
		ents = append(ents, e)
	}
	flist.Sort(ents, g.c.Session.Protocol)
	out := make([]delEntry, len(ents))
	for i, e := range ents {
		out[i] = delEntry{name: e.Name(), mode: e.Mode, uid: uids[e]}
	}
	return out
}

// ownedNoWrite reports whether an entry lacks u+w but belongs to us, so
// that rsync makes it writable before deleting it (DEL_NO_UID_WRITE).
func ownedNoWrite(e delEntry) bool {
	return e.mode&unix.S_IWUSR == 0 && !fsys.AmRoot() && e.uid == uint32(os.Geteuid())
}

// inDir deletes the entries of the destination directory dir that are
// missing from the sender's list. rsync: generator.c delete_in_dir
func (d *deleter) inDir(dir string) {
	g := d.g
	if g.c.IOError()&exitcode.IOErrGeneral != 0 && !g.opts.IgnoreErrors {
		if !d.warnedIOError {
			g.c.Log.Info("IO error encountered -- skipping file deletion\n")
			d.warnedIOError = true
		}
		return
	}
	d.changeFilterDir(dir, depthOf(dir))
	if d.fatal != nil {
		return
	}
	ents := d.dirList(dir)
	for i := len(ents) - 1; i >= 0; i-- {
		e := ents[i]
		if g.list.FindName(e.name, -1) >= 0 {
			continue
		}
		flags := delRecurse
		if ownedNoWrite(e) {
			flags |= delNoUIDWrite
		}
		if d.mode == DeleteDelay {
			e.flags = flags
			d.delayed = append(d.delayed, e)
			continue
		}
		d.item(e.name, e.mode, flags)
	}
}

// pass runs inDir for every directory of the list whose contents were
// sent, in list order: --delete-before and --delete-after.
// rsync: generator.c do_delete_pass
func (d *deleter) pass() {
	g := d.g
	if g.rs.DryRunMissing {
		return
	}
	for _, e := range g.list.Entries {
		if !e.Active() || !e.IsDir() {
			continue
		}
		name := e.Name()
		if e.Flags&flist.FlagContentDir == 0 {
			d.changeFilterDir(name, depthOf(name))
			continue
		}
		st, err := g.root.LstatT(name)
		if err != nil || !st.IsDir() {
			continue
		}
		d.inDir(name)
	}
	d.changeFilterDir("", 0)
}

// during is the --delete-during (and --delete-delay) hook for one
// directory of the list, after the generator has made sure it exists.
// rsync: generator.c recv_generator (the delete_in_dir call)
func (d *deleter) during(e *flist.Entry, name string, missing bool) {
	if d.mode != DeleteDuring && d.mode != DeleteDelay || missing {
		return
	}
	if e.Flags&flist.FlagContentDir != 0 {
		d.inDir(name)
	} else {
		d.changeFilterDir(name, depthOf(name))
	}
}

// delayedDeletions deletes what --delete-delay remembered.
// rsync: generator.c do_delayed_deletions
func (d *deleter) delayedDeletions() {
	for _, e := range d.delayed {
		d.item(e.name, e.mode, e.flags|delRecurse)
	}
	d.delayed = nil
}

// item deletes one file or directory (with delRecurse, its contents
// first). rsync: delete.c delete_item
func (d *deleter) item(name string, mode uint32, flags int) delRet {
	g := d.g
	isDir := mode&unix.S_IFMT == unix.S_IFDIR
	if flags&delNoUIDWrite != 0 {
		d.chmod(name, mode|unix.S_IWUSR)
	}
	ret := delSuccess
	if isDir && flags&delDirIsEmpty == 0 {
		d.ignorePerishable = true
		ret = d.dirContents(name, flags)
		d.ignorePerishable = false
	}
	if ret == delSuccess {
		ret = d.remove(name, mode, isDir, flags)
		if ret == delAtLimit {
			return ret
		}
	}
	if ret != delSuccess && flags&delMakeRoom != 0 {
		g.errorf("could not make way for new %s: %s\n", makeRoomDesc(flags), name)
	}
	return ret
}

// remove unlinks or rmdirs one entry whose contents are gone, counting it
// and telling the client.
func (d *deleter) remove(name string, mode uint32, isDir bool, flags int) delRet {
	g := d.g
	if flags&delMakeRoom == 0 && g.opts.LimitDelete && d.stats.DeletedFiles >= int64(g.opts.MaxDelete) {
		d.skipped++
		return delAtLimit
	}
	what := "unlink"
	if isDir {
		what = "rmdir"
	}
	var err error
	if !g.opts.DryRun {
		err = g.root.Remove(name)
	}
	if err != nil {
		errno := errnoOf(err)
		switch {
		case isDir && errno == unix.ENOTEMPTY:
			g.c.Log.Info(fmt.Sprintf("cannot delete non-empty directory: %s\n", name))
			return delNotEmpty
		case errno != unix.ENOENT:
			g.errorf("rsync: [generator] delete_file: %s(%s) failed: %s\n", what, name, errnoText(err))
			return delFailure
		}
		return delSuccess
	}
	if flags&delMakeRoom != 0 {
		return delSuccess
	}
	d.logDelete(name, isDir)
	st := &d.stats
	st.DeletedFiles++
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		st.DeletedDirs++
	case unix.S_IFLNK:
		st.DeletedSymlinks++
	case unix.S_IFCHR, unix.S_IFBLK:
		st.DeletedDevices++
	default:
		st.DeletedSpecials++
	}
	return delSuccess
}

// dirContents deletes (with delRecurse) or only checks for the contents
// of a directory about to be deleted, deepest first, with the merge files
// found there. rsync: delete.c delete_dir_contents
func (d *deleter) dirContents(dir string, flags int) delRet {
	if d.stack != nil {
		ok := d.push(dir)
		defer d.stack.Pop()
		if !ok {
			return delFailure
		}
	}
	d.nonPerishable = 0
	ents := d.dirList(dir)
	ret := delSuccess
	if d.nonPerishable > 0 {
		ret = delNotEmpty
	}
	if len(ents) > 0 {
		if flags&delRecurse == 0 {
			ret = delNotEmpty
		} else {
			flags = flags&^(delRecurse|delMakeRoom|delNoUIDWrite) | delDirIsEmpty
			for j := len(ents) - 1; j >= 0; j-- {
				e := ents[j]
				if ownedNoWrite(e) {
					d.chmod(e.name, e.mode|unix.S_IWUSR)
				}
				if e.mode&unix.S_IFMT == unix.S_IFDIR {
					if d.dirContents(e.name, flags|delRecurse) != delSuccess {
						ret = delNotEmpty
					}
				}
				if d.item(e.name, e.mode, flags) != delSuccess {
					ret = delNotEmpty
				}
			}
		}
	}
	if ret == delNotEmpty {
		d.g.c.Log.Info(fmt.Sprintf("cannot delete non-empty directory: %s\n", dir))
	}
	return ret
}

func (d *deleter) chmod(name string, mode uint32) {
	if !d.g.opts.DryRun {
		d.g.root.Chmod(name, mode&0o7777)
	}
}

// logDelete reports a deletion: a server sends it to the client as
// MSG_DELETED (a directory's name ends in a NUL) from protocol 29; a
// client prints "deleting NAME" with -v. rsync: log.c log_delete
func (d *deleter) logDelete(name string, isDir bool) {
	g := d.g
	if g.amServer && g.c.Session.Protocol >= 29 && len(name) < flist.MaxPath {
		p := []byte(name)
		if isDir {
			p = append(p, 0)
		}
		// Like rsync's send_msg, the message goes out ahead of the
		// data still buffered (the directory's own item, say), and
		// waits in the multiplexer's buffer for the next write.
		if g.c.Mux != nil {
			if err := g.c.Mux.QueueMsg(wire.MsgDeleted, p); err != nil {
				g.errorf("rsync: [generator] send MSG_DELETED: %v\n", err)
			}
		}
		return
	}
	g.c.logDeleted(g.opts, name, isDir)
}

// finish reports the --max-delete limit once deletions are over.
// rsync: generator.c generate_files
func (d *deleter) finish() {
	g := d.g
	if g.opts.LimitDelete && d.skipped > 0 {
		g.c.Log.Warning(fmt.Sprintf("Deletions stopped due to --max-delete limit (%d skipped)\n", d.skipped))
		g.c.AddIOError(exitcode.IOErrDelLimit)
	}
}

// makeRoom deletes what stands where an entry of another type must go:
// recursively with --delete or --force, else only an empty directory.
// It reports whether the way is clear. rsync: delete.c delete_item with
// DEL_MAKE_ROOM
func (d *deleter) makeRoom(name string, st *fsys.Stat, newEntry *flist.Entry) bool {
	flags := 0
	if d.g.opts.Delete != DeleteOff || d.g.opts.Force {
		flags = delRecurse
	}
	switch {
	case newEntry.IsRegular():
		flags |= delForFile
	case newEntry.IsDir():
		flags |= delForDir
	case newEntry.IsSymlink():
		flags |= delForSymlink
	case newEntry.IsDevice():
		flags |= delForDevice
	default:
		flags |= delForSpecial
	}
	return d.item(name, st.Mode, flags) == delSuccess
}

func makeRoomDesc(flags int) string {
	switch {
	case flags&delForFile != 0:
		return "regular file"
	case flags&delForDir != 0:
		return "directory"
	case flags&delForSymlink != 0:
		return "symlink"
	case flags&delForDevice != 0:
		return "device file"
	}
	return "special file"
}

// missingArg handles a --delete-missing-args entry (mode 0): the
// destination entry of that name goes, unless the filters protect it.
// rsync: generator.c recv_generator (missing_args == 2)
func (d *deleter) missingArg(name string, exists bool, st *fsys.Stat) {
	if d.filt != nil && d.filt.CheckSide(name, false, filter.ReceiverSide, false) == filter.Excluded {
		return
	}
	if !exists {
		return
	}
	flags := 0
	if d.g.opts.Delete != DeleteOff || d.g.opts.Force {
		flags = delRecurse
	}
	d.item(name, st.Mode, flags)
}

// sendDelStats writes the generator's deletion counts.
func (g *generator) sendDelStats() { writeDelStats(g.c, g.outNdx, &g.del.stats) }

// writeDelStats writes NDX_DEL_STATS and the deletion counts by type.
// rsync: main.c write_del_stats
func writeDelStats(c *Conn, codec *wire.NdxCodec, st *Stats) {
	codec.Write(c.W, wire.NdxDelStats)
	w := c.W
	w.WriteVarint(int32(st.DeletedFiles - st.DeletedDirs - st.DeletedSymlinks - st.DeletedDevices - st.DeletedSpecials))
	w.WriteVarint(int32(st.DeletedDirs))
	w.WriteVarint(int32(st.DeletedSymlinks))
	w.WriteVarint(int32(st.DeletedDevices))
	w.WriteVarint(int32(st.DeletedSpecials))
}

// readDelStats reads the counts NDX_DEL_STATS carries into st, as totals
// the way rsync keeps them. rsync: main.c read_del_stats
func readDelStats(c *Conn, st *Stats) error {
	var v [5]int64
	names := [5]string{"deleted_files", "deleted_dirs", "deleted_symlinks", "deleted_devices", "deleted_specials"}
	for i := range v {
		n, err := c.R.ReadVarint()
		if err != nil {
			return streamErr(err)
		}
		if n < 0 || n > maxWireDelStat {
			return fmt.Errorf("wire value %s out of range: %d not in [0,%d]: %w", names[i], n, maxWireDelStat, wire.ErrProtocol)
		}
		v[i] = int64(n)
	}
	if st != nil {
		st.DeletedDirs, st.DeletedSymlinks, st.DeletedDevices, st.DeletedSpecials = v[1], v[2], v[3], v[4]
		st.DeletedFiles = v[0] + v[1] + v[2] + v[3] + v[4]
	}
	return nil
}

// errnoOf unwraps err to its errno, if it has one.
func errnoOf(err error) syscall.Errno {
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return 0
}

// errnoText formats an error as rsync's rsyserr does: C's strerror with
// the errno in parentheses.
func errnoText(err error) string {
	en := errnoOf(err)
	if en == 0 {
		return err.Error()
	}
	s := en.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return fmt.Sprintf("%s (%d)", s, int(en))
}
