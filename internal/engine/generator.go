package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/wire"
	"golang.org/x/sys/unix"
)

// genEvent is what the receiver tells the generator: a file to redo, or the
// end of one of the sender's phases. rsync: the receiver's MSG_REDO and
// MSG_DONE on its error pipe.
type genEvent struct {
	redo int32 // file index to redo; -1 for a phase done
}

// generator walks the received list, decides what each destination entry
// needs, creates directories, links and special files itself, and asks the
// sender for the regular files that differ. rsync: generator.c.
type generator struct {
	rs     *Receiving
	c      *Conn
	opts   *Options
	root   *fsys.Root
	list   *flist.List
	outNdx *wire.NdxCodec
	events <-chan genEvent
	stats  *Stats

	dfltPerms uint32 // ACCESSPERMS & ~umask
	sigBuf    []byte
	sumBuf    []byte // reused for --checksum reads
	block     *checksum.BlockHasher
	fileSum   *checksum.FileHasher
	dirs      []dirFix // directories whose times and modes are fixed at the end
	tree      treeState
	skipDir   string // a directory --existing did not create: skip what is below
	failed    bool
	amServer  bool
	del       *deleter
	ahead     *sumAhead // --checksum sums computed ahead (parallel.go)
}

func (g *generator) name(e *flist.Entry) string {
	if g.rs.LocalName != "" {
		return g.rs.LocalName
	}
	return e.Name()
}

func (g *generator) errorf(format string, args ...any) {
	g.failed = true
	g.c.XferError(fmt.Sprintf(format, args...))
}

// run is generate_files for a list without incremental recursion.
func (g *generator) run() error {
	c := g.c
	proto := c.Session.Protocol
	g.del = newDeleter(g)
	g.ahead = startSumAhead(g)
	defer g.ahead.stop()
	solo := g.rs.LocalName != ""
	if g.del.mode == DeleteBefore && !solo && len(g.list.Entries) > 0 {
		g.del.pass()
	}
	for i, e := range g.list.Entries {
		if g.del.fatal != nil {
			return g.del.fatal
		}
		if !e.Active() {
			continue
		}
		if err := g.recvGenerator(int32(i), e, false); err != nil {
			return err
		}
		if c.W.Buffered() > 32<<10 {
			if err := c.W.Flush(); err != nil {
				return err
			}
		}
	}
	if g.del.fatal != nil {
		return g.del.fatal
	}
	g.del.changeFilterDir("", 0)
	g.outNdx.Write(c.W, wire.NdxDone)
	if err := c.W.Flush(); err != nil {
		return err
	}
	// Redo phase: files whose whole-file checksum failed go again with
	// full-length block sums, until the receiver finishes phase 0.
	done := 0
	for done < 1 {
		ev, ok := <-g.events
		if !ok {
			return errReceiverGone
		}
		if ev.redo < 0 {
			done++
			continue
		}
		if err := g.recvGenerator(ev.redo, g.list.Entries[ev.redo], true); err != nil {
			return err
		}
		if err := c.W.Flush(); err != nil {
			return err
		}
	}
	g.outNdx.Write(c.W, wire.NdxDone)
	if proto >= 29 {
		g.outNdx.Write(c.W, wire.NdxDone) // delay-updates phase, empty
	}
	// Deletion statistics follow the transfer at once unless deletions
	// are still to come. rsync: generator.c EARLY_DELETE_DONE_MSG
	lateDelete := g.del.mode == DeleteDelay || g.del.mode == DeleteAfter
	if proto >= 31 && !lateDelete {
		if g.opts.Delete != DeleteOff || g.opts.Force {
			g.sendDelStats()
		}
		g.outNdx.Write(c.W, wire.NdxDone)
	}
	if err := c.W.Flush(); err != nil {
		return err
	}
	wait := func(want int) error {
		for done < want {
			ev, ok := <-g.events
			if !ok {
				return errReceiverGone
			}
			if ev.redo < 0 {
				done++
			}
		}
		return nil
	}
	transferDone := 2
	if proto >= 29 {
		transferDone = 3
	}
	if err := wait(transferDone); err != nil {
		return err
	}
	switch {
	case g.del.mode == DeleteDelay:
		g.del.delayedDeletions()
	case g.del.mode == DeleteAfter && !solo && len(g.list.Entries) > 0:
		g.del.pass()
	}
	if g.del.fatal != nil {
		return g.del.fatal
	}
	g.del.finish()
	if proto >= 31 && lateDelete {
		if g.opts.Delete != DeleteOff || g.opts.Force {
			g.sendDelStats()
		}
		g.outNdx.Write(c.W, wire.NdxDone)
		if err := c.W.Flush(); err != nil {
			return err
		}
	}
	want := transferDone
	if proto >= 31 {
		want = 4
	}
	if err := wait(want); err != nil {
		return err
	}
	g.touchUpDirs()
	g.outNdx.Write(c.W, wire.NdxDone)
	return c.W.Flush()
}

var errReceiverGone = errors.New("receiver stopped early")

// dirFix is a directory whose final mode and time wait for its contents.
type dirFix struct {
	ndx     int32
	created bool // made by this transfer: it takes the new-entry mode
}

// recvGenerator handles one entry. rsync: generator.c recv_generator.
func (g *generator) recvGenerator(ndx int32, e *flist.Entry, redo bool) error {
	name := g.name(e)
	if err := g.checkParent(e); err != nil {
		return err
	}
	if g.opts.Select.ListOnly {
		g.listEntry(e)
		return nil
	}
	var st fsys.Stat
	exists := false
	if !g.rs.DryRunMissing {
		var err error
		st, err = g.root.LstatT(name)
		exists = err == nil
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENOTDIR) {
			g.errorf("rsync: [generator] recv_generator: failed to stat %q: %v\n", name, unwrapPathErr(err))
			return nil
		}
	}
	if e.Mode == 0 {
		// A --delete-missing-args entry: its destination goes.
		if g.opts.MissingArgs == flist.DeleteMissing && !g.rs.DryRunMissing {
			g.del.missingArg(name, exists, &st)
		}
		return nil
	}
	if !redo && g.skipEntry(e, name, &st, exists) {
		return nil
	}
	switch {
	case e.IsDir():
		if g.skipImplied(e) {
			return nil
		}
		g.tree.priorDir = name
		return g.genDir(ndx, e, name, &st, exists)
	case e.IsSymlink():
		if !g.opts.Links {
			g.skipNonRegular(name)
			return nil
		}
		return g.genSymlink(ndx, e, name, &st, exists)
	case e.IsDevice() || e.IsSpecial():
		if e.IsDevice() && !g.opts.Devices || e.IsSpecial() && !g.opts.Specials {
			g.skipNonRegular(name)
			return nil
		}
		return g.genSpecial(ndx, e, name, &st, exists)
	case e.IsRegular():
		return g.genFile(ndx, e, name, &st, exists, redo)
	}
	return nil
}

// skipNonRegular reports an entry the options do not let us create.
// rsync: generator.c recv_generator ("skipping non-regular file").
func (g *generator) skipNonRegular(name string) {
	if !g.opts.Quiet {
		g.c.Log.Info(fmt.Sprintf("skipping non-regular file %q\n", name))
	}
}

// itemize computes the change flags for an entry that exists (or not) and
// tells the sender about significant ones. rsync: generator.c itemize.
func (g *generator) itemize(ndx int32, e *flist.Entry, st *fsys.Stat, exists bool, iflags uint32) uint32 {
	if exists {
		keepTime := g.opts.Times && !e.IsSymlink() || g.opts.Times && e.IsSymlink() && g.c.Session.ReceiverSymlinkTimes
		if e.IsRegular() && e.Size != st.Size {
			iflags |= itemReportSize
		}
		if keepTime {
			if g.mtimeDiffers(st, e) {
				iflags |= itemReportTime
			}
		} else if iflags&(itemTransfer|itemLocalChange) != 0 {
			iflags |= itemReportTime
		}
		if !e.IsSymlink() && g.opts.Perms && st.Perm() != e.Mode&0o7777 {
			iflags |= itemReportPerms
		}
		if g.opts.Owner && fsys.AmRoot() && st.UID != e.UID {
			iflags |= itemReportOwner
		}
		if g.opts.Group && e.Flags&flist.FlagSkipGroup == 0 && st.GID != e.GID {
			iflags |= itemReportGroup
		}
	} else {
		iflags |= itemIsNew
	}
	iflags &= 0xffff
	if ndx >= 0 && (iflags&significantItemFlags != 0 || g.opts.Verbose >= 2) && g.c.Session.Protocol >= 29 {
		g.outNdx.Write(g.c.W, ndx)
		g.c.W.WriteShortint(uint16(iflags))
	}
	return iflags
}

// attrsFor returns what to apply to an entry given its current state.
// rsync: rsync.c set_file_attrs.
func (g *generator) attrsFor(e *flist.Entry, st *fsys.Stat, exists bool, setTime bool) fsys.Attrs {
	var a fsys.Attrs
	if g.opts.Owner && fsys.AmRoot() && (!exists || st.UID != e.UID) {
		a.Set |= fsys.SetUID
		a.UID = e.UID
	}
	if g.opts.Group && e.Flags&flist.FlagSkipGroup == 0 && (!exists || st.GID != e.GID) {
		a.Set |= fsys.SetGID
		a.GID = e.GID
	}
	if a.Set&(fsys.SetUID|fsys.SetGID) != 0 {
		// chown needs both ids; keep the current one that is not changing.
		if a.Set&fsys.SetUID == 0 {
			a.UID = st.UID
			if !exists {
				a.UID = uint32(os.Geteuid())
			}
			a.Set |= fsys.SetUID
		}
		if a.Set&fsys.SetGID == 0 {
			a.GID = st.GID
			if !exists {
				a.GID = uint32(os.Getegid())
			}
			a.Set |= fsys.SetGID
		}
	}
	if setTime && g.opts.Times && (!e.IsSymlink() || g.c.Session.ReceiverSymlinkTimes) {
		// Seconds only, as rsync's same_time with --modify-window=0: an
		// entry differing only in nanoseconds is left alone.
		if !exists || g.mtimeDiffers(st, e) {
			a.Set |= fsys.SetMtime
			a.Mtime = time.Unix(e.Mtime, int64(e.MtimeNsec))
			a.Atime = time.Now()
		}
	}
	if !e.IsSymlink() {
		mode := g.destMode(e, st, exists)
		if !exists || st.Perm() != mode {
			a.Set |= fsys.SetMode
			a.Mode = mode
		}
	}
	return a
}

// destMode gives the permission bits a file should end with: without -p,
// an existing file keeps its own and a new one gets the source's narrowed
// by the destination's defaults, except that a directory just made keeps
// the set-group-ID bit its parent gave it (st is its stat after mkdir).
// rsync: rsync.c dest_mode, set_file_attrs (inherit).
func (g *generator) destMode(e *flist.Entry, st *fsys.Stat, exists bool) uint32 {
	switch {
	case g.opts.Perms:
		return e.Mode & 0o7777
	case exists:
		return st.Perm()
	case e.IsDir() && st.IsDir():
		return e.Mode&g.dfltPerms | st.Perm()&unix.S_ISGID
	default:
		return e.Mode & g.dfltPerms
	}
}

func (g *generator) applyAttrs(name string, e *flist.Entry, st *fsys.Stat, exists bool, setTime bool) {
	if g.opts.DryRun {
		return
	}
	a := g.attrsFor(e, st, exists, setTime)
	if a.Set == 0 {
		return
	}
	if err := g.root.SetAttrs(name, a); err != nil {
		g.errorf("rsync: [generator] failed to set attributes on %q: %v\n", name, unwrapPathErr(err))
	}
}

func (g *generator) genDir(ndx int32, e *flist.Entry, name string, st *fsys.Stat, exists bool) error {
	if exists && !st.IsDir() {
		if !g.del.makeRoom(name, st, e) {
			g.c.Log.Error("*** Skipping any contents from this failed directory ***\n")
			return nil
		}
		exists = false
	}
	// rsync deletes in a directory after making sure it exists; a dry run
	// that would create it has nothing to delete there.
	defer func() { g.del.during(e, name, !exists && g.opts.DryRun || g.rs.DryRunMissing) }()
	// The destination made for this transfer counts as a directory just
	// created, whose mode is set as a new one's. rsync: main.c
	// get_local_name (FLAG_DIR_CREATED)
	created := e.Dir == "" && e.Base == "." && g.rs.RootCreated
	if created {
		g.itemize(ndx, e, st, false, 0)
	} else {
		g.itemize(ndx, e, st, exists, 0)
	}
	if !exists && !g.opts.DryRun {
		created = true
		if err := g.root.Mkdir(name, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			g.errorf("rsync: [generator] recv_generator: mkdir %q failed: %v\n", name, unwrapPathErr(err))
			return nil
		}
		if ns, err := g.root.LstatT(name); err == nil {
			*st = ns
			exists = true
		}
	}
	if !g.opts.DryRun {
		a := g.attrsFor(e, st, exists, false)
		// Keep the directory writable for its contents; touchUpDirs sets the
		// final mode and time once they are in place.
		a.Set &^= fsys.SetMode
		if a.Set != 0 {
			if err := g.root.SetAttrs(name, a); err != nil {
				g.errorf("rsync: [generator] failed to set attributes on %q: %v\n", name, unwrapPathErr(err))
			}
		}
		g.dirs = append(g.dirs, dirFix{ndx: ndx, created: created})
	}
	return nil
}

// touchUpDirs fixes directory modes and times after all files are in place,
// deepest first. rsync: generator.c touch_up_dirs.
func (g *generator) touchUpDirs() {
	for i := len(g.dirs) - 1; i >= 0; i-- {
		d := g.dirs[i]
		e := g.list.Entries[d.ndx]
		name := g.name(e)
		st, err := g.root.LstatT(name)
		if err != nil || !st.IsDir() {
			continue
		}
		a := g.attrsFor(e, &st, !d.created, true)
		a.Set &^= fsys.SetUID | fsys.SetGID
		if a.Set == 0 {
			continue
		}
		if err := g.root.SetAttrs(name, a); err != nil {
			g.errorf("rsync: [generator] failed to set times on %q: %v\n", name, unwrapPathErr(err))
		}
	}
}

func (g *generator) replaceable(name string, st *fsys.Stat, e *flist.Entry) bool {
	return g.del.makeRoom(name, st, e)
}

func (g *generator) genSymlink(ndx int32, e *flist.Entry, name string, st *fsys.Stat, exists bool) error {
	if exists {
		if st.IsSymlink() {
			if target, err := g.root.Readlink(name); err == nil && target == e.LinkTarget() {
				g.itemize(ndx, e, st, true, 0)
				g.applyAttrs(name, e, st, true, true)
				if g.opts.Select.RemoveSource == RemoveSourceFiles {
					g.c.succeeded(g.opts, g.root, name, ndx)
				}
				return nil
			}
		}
		if !g.replaceable(name, st, e) {
			return nil
		}
	}
	g.itemize(ndx, e, st, exists && st.IsSymlink(), itemLocalChange)
	if g.opts.DryRun {
		return nil
	}
	if err := g.root.Symlink(e.LinkTarget(), name); err != nil {
		g.errorf("rsync: [generator] symlink %q -> %q failed: %v\n", name, e.LinkTarget(), unwrapPathErr(err))
		return nil
	}
	g.applyAttrs(name, e, st, false, true)
	// Even --remove-sent-files removes a created symlink. rsync:
	// generator.c recv_generator
	g.c.succeeded(g.opts, g.root, name, ndx)
	return nil
}

func (g *generator) genSpecial(ndx int32, e *flist.Entry, name string, st *fsys.Stat, exists bool) error {
	rdev := unix.Mkdev(e.Rdev())
	if exists {
		sameType := st.Type() == e.Type()
		if sameType && (!e.IsDevice() || st.Rdev == rdev) {
			g.itemize(ndx, e, st, true, 0)
			g.applyAttrs(name, e, st, true, true)
			if g.opts.Select.RemoveSource == RemoveSourceFiles {
				g.c.succeeded(g.opts, g.root, name, ndx)
			}
			return nil
		}
		if !g.replaceable(name, st, e) {
			return nil
		}
	}
	g.itemize(ndx, e, st, false, itemLocalChange)
	if g.opts.DryRun {
		return nil
	}
	if !e.IsDevice() {
		rdev = 0
	}
	if err := g.root.Mknod(name, e.Mode&(flist.ModeTypeMask|0o7777), rdev); err != nil {
		g.errorf("rsync: [generator] mknod %q failed: %v\n", name, unwrapPathErr(err))
		return nil
	}
	g.applyAttrs(name, e, st, false, true)
	if g.opts.Select.RemoveSource == RemoveSourceFiles {
		g.c.succeeded(g.opts, g.root, name, ndx)
	}
	return nil
}

// quickCheck reports whether a destination file already matches. rsync:
// generator.c quick_check_ok (FT_REG).
func (g *generator) quickCheck(ndx int32, e *flist.Entry, name string, st *fsys.Stat) bool {
	if st.Size != e.Size {
		return false
	}
	if g.opts.AlwaysChecksum {
		if sum, ok := g.ahead.sum(ndx, st); ok {
			want := e.Sum()
			return len(want) > 0 && bytes.Equal(sum[:min(len(sum), len(want))], want)
		}
		f, err := g.root.Open(name)
		if err != nil {
			return false
		}
		defer f.Close()
		g.fileSum.Reset(g.c.Session.FileParams())
		if g.sumBuf == nil {
			g.sumBuf = make([]byte, 256<<10)
		}
		if err := fastio.Feed(g.fileSum, f, g.sumBuf); err != nil {
			return false
		}
		sum := g.fileSum.Sum(nil)
		want := e.Sum()
		return len(want) > 0 && bytes.Equal(sum[:min(len(sum), len(want))], want)
	}
	if g.opts.SizeOnly {
		return true
	}
	if g.opts.IgnoreTimes {
		return false
	}
	return !g.mtimeDiffers(st, e)
}

func (g *generator) genFile(ndx int32, e *flist.Entry, name string, st *fsys.Stat, exists, redo bool) error {
	if !redo && g.skipRegular(e, name, st, exists) {
		return nil
	}
	if exists && !st.IsRegular() {
		if !g.replaceable(name, st, e) {
			return nil
		}
		exists = false
	}
	if exists && !redo && g.quickCheck(ndx, e, name, st) {
		g.itemize(ndx, e, st, true, 0)
		g.applyAttrs(name, e, st, true, true)
		if g.opts.Select.RemoveSource == RemoveSourceFiles {
			g.c.succeeded(g.opts, g.root, name, ndx)
		}
		return nil
	}
	c := g.c
	proto := c.Session.Protocol
	g.outNdx.Write(c.W, ndx)
	iflags := uint32(itemTransfer)
	if g.opts.AlwaysChecksum {
		iflags |= itemReportChange
	}
	if proto >= 29 {
		iflags = g.itemize(-1, e, st, exists, iflags)
		c.W.WriteShortint(uint16(iflags))
	}
	if g.opts.DryRun {
		return nil
	}
	if !exists || g.opts.WholeFile || st.Size <= 0 {
		delta.WriteSumHead(c.W, delta.SumHead{})
		return nil
	}
	f, err := g.root.Open(name)
	if err != nil {
		// rsync falls back to sending the whole file when the basis cannot be read.
		delta.WriteSumHead(c.W, delta.SumHead{})
		return nil
	}
	defer f.Close()
	sumLen := checksum.ShortSumLength
	if redo {
		sumLen = checksum.SumLength
	}
	head, err := checksum.SumSizes(st.Size, 0, proto, sumLen, g.block.Size())
	if err != nil {
		return fmt.Errorf("generate sums for %s: %w", name, err)
	}
	// A large basis is hashed in place from a mapping (no copy through
	// pread); a smaller one, or where it cannot be mapped, is read.
	var basis io.ReaderAt = f
	if st.Size >= fastio.MapThreshold {
		if mf, err := g.opts.IO.Open(f, st.Size, fastio.Sequential); err == nil {
			defer mf.Close()
			basis = mf
		}
	}
	if g.sigBuf, err = delta.WriteSignature(c.W, basis, st.Size, head, g.block, g.sigBuf, g.sumWorkers()); err != nil {
		return fmt.Errorf("generate sums for %s: %w", name, err)
	}
	if g.opts.Hooks.AfterSums != nil {
		g.opts.Hooks.AfterSums(name)
	}
	return nil
}

// sumWorkers is how many goroutines may hash one large basis's block sums:
// every CPU with the Parallel fast path, else one.
func (g *generator) sumWorkers() int {
	if g.opts.IO.On(fastio.Parallel) {
		return runtime.GOMAXPROCS(0)
	}
	return 1
}
