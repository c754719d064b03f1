package flist

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/wire"
)

// ErrUnsafePath marks a received name that is absolute (without
// --relative) or contains a ".." component. rsync aborts on it with
// "ABORTING due to unsafe pathname from sender" and exit code 4
// (RERR_UNSUPPORTED), not 12.
var ErrUnsafePath = exitcode.Sentinel(exitcode.Unsupported, "unsafe pathname from sender")

// entrySlab is how many entries a Decoder or walk allocates at once.
const entrySlab = 256

// extSlab is how many entry extensions a Decoder allocates at once.
const extSlab = 64

// slab hands out Entries and their extensions from chunks, so a large list
// costs one heap object per entrySlab entries instead of one per entry.
type slab struct {
	buf  []Entry
	used int // entries of buf handed out
	xbuf []entryExt
}

// ext returns e's extension, taking it from a chunk if e has none yet.
func (s *slab) ext(e *Entry) *entryExt {
	if e.x == nil {
		if len(s.xbuf) == 0 {
			s.xbuf = make([]entryExt, extSlab)
		}
		e.x = &s.xbuf[0]
		s.xbuf = s.xbuf[1:]
		e.x.acl, e.x.xattr = -1, -1
	}
	return e.x
}

func (s *slab) next() *Entry {
	if s.used == len(s.buf) {
		s.buf, s.used = make([]Entry, entrySlab), 0
	}
	e := &s.buf[s.used]
	s.used++
	return e
}

// unget returns e, the entry next handed out last, for reuse.
func (s *slab) unget(e *Entry) {
	if s.used > 0 && &s.buf[s.used-1] == e {
		s.used--
		s.buf[s.used] = Entry{}
	}
}

// nameArena hands out strings carved from large shared buffers, so that
// names and symlink targets cost no allocation each. A buffer lives as
// long as any string carved from it; a list's names live together.
type nameArena struct{ b strings.Builder }

// nameArenaChunk is the size of one arena buffer.
const nameArenaChunk = 64 << 10

// str returns p as a string. A strings.Builder only appends, so the
// strings it returned stay unchanged (and shared) as it grows in place.
func (a *nameArena) str(p []byte) string {
	start := a.room(len(p))
	a.b.Write(p)
	return a.b.String()[start:]
}

// keep returns a copy of s carved from the arena.
func (a *nameArena) keep(s string) string {
	start := a.room(len(s))
	a.b.WriteString(s)
	return a.b.String()[start:]
}

// room makes room for n more bytes, in a new buffer if need be, and
// returns where they will start.
func (a *nameArena) room(n int) int {
	if a.b.Cap()-a.b.Len() < n {
		a.b = strings.Builder{}
		a.b.Grow(max(nameArenaChunk, n))
	}
	return a.b.Len()
}

// Decoder reads file-list entries from a peer, validating every field and
// carrying rsync's inter-entry state. One Decoder serves a whole
// connection. rsync: flist.c recv_file_entry, recv_file_list
type Decoder struct {
	opts       Options
	maxEntries int64 // Options.ListCap

	lastName     [MaxPath]byte
	lastLen      int
	lastDir      string
	lastDirDepth int

	modtime, atime, crtime int64
	mode                   uint32
	rdevMaj                uint32
	rdev                   [2]uint32
	uid, gid               uint32
	dev                    int64 // protocols before 30: last hard-link device
	hlinkCnt               int32
	idev                   map[[2]int64]int32

	inDelHier  bool
	delHierLen int

	entries  []*Entry
	ndxStart int32
	ioError  int32
	slab     slab
	names    nameArena

	// With incremental recursion every entry of a list must lie in
	// listDir ("" for the first list), and directories are kept apart
	// from the other entries (dirSlab, dirNames): they outlive their
	// list, which is freed once done, and must not pin its chunks.
	inc      bool
	listDir  string
	dirSlab  slab
	dirNames nameArena
	keptDir  string // the last Dir string kept in dirNames

	users, groups map[uint32]string

	// Scratch space, part of the Decoder so nothing escapes per entry.
	nameBuf [MaxPath]byte
	linkBuf [MaxPath]byte
	sumBuf  [maxChecksumLen]byte
	sums    []byte // arena the entries' checksums are carved from
}

// keepSum copies sum into the arena, so checksums cost one allocation per
// few hundred entries.
func (d *Decoder) keepSum(sum []byte) []byte {
	if len(d.sums) < len(sum) {
		d.sums = make([]byte, entrySlab*len(sum))
	}
	out := d.sums[:len(sum):len(sum)]
	copy(out, sum)
	d.sums = d.sums[len(sum):]
	return out
}

// NewDecoder returns a Decoder for opts.
func NewDecoder(opts Options) (*Decoder, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Decoder{
		opts:   opts,
		inc:    opts.IncRecurse(),
		users:  make(map[uint32]string),
		groups: make(map[uint32]string),

		maxEntries: opts.ListCap(),
	}, nil
}

// StartList begins a new file list whose first entry has wire index
// ndxStart; entries read so far are forgotten, the compression state is not.
func (d *Decoder) StartList(ndxStart int32) {
	d.entries = nil
	d.ndxStart = ndxStart
	d.ioError = 0
}

// Entries returns the entries of the current list in received order.
func (d *Decoder) Entries() []*Entry { return d.entries }

// IOError returns the I/O error bits the sender reported in the end marker
// (and, before protocol 30, in the trailer read by ReadList).
func (d *Decoder) IOError() int32 { return d.ioError }

func protoErr(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, wire.ErrProtocol)...)
}

// incompatErr is a rule violation rsync exits 2 (RERR_PROTOCOL) for.
func incompatErr(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, wire.ErrIncompatible)...)
}

// readFlags reads an entry's flags; end reports the end-of-list marker.
func (d *Decoder) readFlags(r *wire.Reader) (xflags uint32, end bool, err error) {
	o := &d.opts
	if o.VarintFlags() {
		v, err := r.ReadVarint()
		if err != nil {
			return 0, false, err
		}
		if v == 0 {
			e, err := r.ReadVarint()
			if err != nil {
				return 0, false, err
			}
			d.ioError |= e & IOErrValidMask
			return 0, true, nil
		}
		return uint32(v), false, nil
	}
	b, err := r.ReadByte()
	if err != nil {
		return 0, false, err
	}
	if b == 0 {
		return 0, true, nil
	}
	xflags = uint32(b)
	if o.Protocol >= 28 && xflags&xmitExtendedFlags != 0 {
		hi, err := r.ReadByte()
		if err != nil {
			return 0, false, err
		}
		xflags |= uint32(hi) << 8
	}
	if xflags == xmitExtendedFlags|xmitIOErrorEndList {
		if !o.SafeFlist() {
			return 0, false, protoErr("invalid flist flag: %x", xflags)
		}
		e, err := r.ReadVarint()
		if err != nil {
			return 0, false, err
		}
		d.ioError |= e & IOErrValidMask
		return 0, true, nil
	}
	return xflags, false, nil
}

// ReadEntry reads the next entry of the current list and appends it to
// Entries. At the end-of-list marker it returns end == true (see IOError).
func (d *Decoder) ReadEntry(r *wire.Reader) (e *Entry, end bool, err error) {
	xflags, end, err := d.readFlags(r)
	if err != nil || end {
		if err != nil {
			err = fmt.Errorf("recv file entry %d flags: %w", len(d.entries), err)
		}
		return nil, end, err
	}
	if len(d.entries) >= maxEntriesPerDecode {
		return nil, false, protoErr("file list longer than %d entries", maxEntriesPerDecode)
	}
	if int64(len(d.entries)) >= d.maxEntries {
		return nil, false, allocError("receiver", d.opts.MaxAlloc)
	}
	e, err = d.readEntry(r, xflags)
	if err != nil {
		return nil, false, fmt.Errorf("recv file entry %d: %w", len(d.entries), err)
	}
	if d.inc {
		if err := d.checkListDir(e); err != nil {
			return nil, false, err
		}
		if e.IsDir() {
			e = d.keepDir(e)
		}
	}
	d.entries = append(d.entries, e)
	return e, false, nil
}

// checkListDir refuses an entry outside the directory whose list is being
// read: with incremental recursion a list holds only that directory's own
// entries (the first list only top-level names), and a sender that says
// otherwise is broken or hostile. rsync: flist.c recv_file_list
// ("ABORTING due to invalid path from sender", RERR_UNSUPPORTED)
func (d *Decoder) checkListDir(e *Entry) error {
	dir := e.Dir
	if d.opts.RelativePaths && strings.HasPrefix(dir, "/") {
		dir = dir[1:]
	}
	if dir == d.listDir {
		return nil
	}
	return &exitcode.Error{Code: exitcode.Unsupported, Msg: fmt.Sprintf("ABORTING due to invalid path from sender: %s/%s", dir, e.Base)}
}

// keepDir moves a directory's entry, names and extension out of the
// list's chunks into the decoder's own: with incremental recursion the
// transfer's directories stay (rsync's dir_flist) while their lists go.
// rsync: flist.c recv_file_entry (dir_flist->file_pool)
func (d *Decoder) keepDir(e *Entry) *Entry {
	k := d.dirSlab.next()
	*k = *e
	if e.Dir != "" {
		if e.Dir != d.keptDir {
			d.keptDir = d.dirNames.keep(e.Dir)
		}
		k.Dir = d.keptDir
	}
	k.Base = d.dirNames.keep(e.Base)
	if e.x != nil {
		k.x = nil
		*d.dirSlab.ext(k) = *e.x
	}
	d.slab.unget(e)
	return k
}

// readEntry reads the parts of an entry that follow its flags, in wire
// order. rsync: flist.c recv_file_entry
func (d *Decoder) readEntry(r *wire.Reader, xflags uint32) (*Entry, error) {
	o := &d.opts
	l1, err := d.readName(r, xflags)
	if err != nil {
		return nil, err
	}
	raw := d.lastName[:d.lastLen]
	e, err := d.newEntry(raw)
	if err != nil {
		return nil, err
	}
	first, firstNdx, err := d.readHLinkRef(r, xflags)
	if err != nil {
		return nil, err
	}
	if first != nil {
		d.copyAttrs(e, first)
	} else if err := d.readAttrs(r, e, xflags); err != nil {
		return nil, err
	}
	if err := d.setAttrs(e, raw); err != nil {
		return nil, err
	}
	if first == nil && e.IsSymlink() && o.PreserveLinks {
		if err := d.readLink(r, e, raw); err != nil {
			return nil, err
		}
	}
	if e.IsDir() {
		d.dirFlags(e, xflags, l1, len(raw))
	}
	hlinked := xflags&xmitHLinked != 0 || (o.Protocol < 28 && e.IsRegular())
	if o.PreserveHardLinks && hlinked {
		if !e.IsDir() {
			e.Flags |= FlagHLinked
		}
		if err := d.readHLink(r, e, xflags, firstNdx); err != nil {
			return nil, err
		}
	}
	if first == nil {
		if err := d.readSum(r, e); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// readName reads the name into lastName: the length of the prefix it
// shares with the previous name, the length of the rest, and the rest. It
// returns the prefix length. rsync: flist.c recv_file_entry
func (d *Decoder) readName(r *wire.Reader, xflags uint32) (l1 int, err error) {
	if xflags&xmitSameName != 0 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		l1 = int(b)
	}
	var l2 int
	if xflags&xmitLongName != 0 {
		v, err := readVarint30(r, &d.opts)
		if err != nil {
			return 0, err
		}
		l2 = int(v)
	} else {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		l2 = int(b)
	}
	if l1 > d.lastLen {
		return 0, protoErr("name prefix %d longer than previous name (%d)", l1, d.lastLen)
	}
	if l2 < 0 || l2 >= MaxPath-l1 {
		return 0, protoErr("overflow: flags=0x%x l1=%d l2=%d", xflags, l1, l2)
	}
	if err := r.ReadFull(d.lastName[l1 : l1+l2]); err != nil {
		return 0, err
	}
	d.lastLen = l1 + l2
	return l1, nil
}

// newEntry checks the received name raw, cleans it (refusing ".." and,
// without --relative, absolute names), sanitizes it under
// --sanitize-paths, and returns a new entry carrying it as directory and
// base. Consecutive entries of one directory share its string.
// rsync: flist.c recv_file_entry (clean_fname, sanitize_path)
func (d *Decoder) newEntry(raw []byte) (*Entry, error) {
	if len(raw) == 0 {
		return nil, protoErr("empty file name")
	}
	if bytes.IndexByte(raw, 0) >= 0 {
		return nil, protoErr("file name %q contains a NUL byte", raw)
	}
	name := d.nameBuf[:copy(d.nameBuf[:], raw)]
	n, ok := cleanName(name, CleanRefuseDotDotDirs)
	if !ok || (!d.opts.RelativePaths && name[0] == '/') {
		return nil, fmt.Errorf("ABORTING due to unsafe pathname from sender: %s: %w", raw, ErrUnsafePath)
	}
	name = name[:n]
	if d.opts.SanitizePaths {
		name = name[:sanitizePath(name, 0, 0)]
	}

	e := d.slab.next()
	// A --relative "/name" keeps its slash in the base (see splitName).
	if i := bytes.LastIndexByte(name, '/'); i > 0 {
		if dir := name[:i]; string(dir) != d.lastDir || d.lastDir == "" {
			d.lastDir = d.names.str(dir)
			d.lastDirDepth = countDirElements(d.lastDir)
		}
		e.Dir = d.lastDir
		e.Base = d.names.str(name[i+1:])
	} else {
		e.Base = d.names.str(name)
	}
	if e.Base == "" {
		return nil, protoErr("file name %q has an empty base name", raw)
	}
	return e, nil
}

// readHLinkRef reads, from protocol 30, the wire index of the first
// member of the hard-link group an entry with XMIT_HLINKED but not
// XMIT_HLINK_FIRST belongs to; firstNdx is -1 without one. first is that
// member when it is in the current list: the entry is then abbreviated.
// rsync: flist.c recv_file_entry (first_hlink_ndx)
func (d *Decoder) readHLinkRef(r *wire.Reader, xflags uint32) (first *Entry, firstNdx int32, err error) {
	if d.opts.Protocol < 30 || xflags&xmitHLinked == 0 || xflags&xmitHLinkFirst != 0 {
		return nil, -1, nil
	}
	v, err := r.ReadVarint()
	if err != nil {
		return nil, -1, err
	}
	if v < 0 || int64(v) >= int64(d.ndxStart)+int64(len(d.entries)) {
		return nil, -1, incompatErr("hard-link reference out of range: %d (%d)", v, int(d.ndxStart)+len(d.entries))
	}
	if v >= d.ndxStart {
		first = d.entries[v-d.ndxStart]
	}
	return first, v, nil
}

// copyAttrs gives an abbreviated hard-link follower the attributes of the
// first member of its group, through the inter-entry state as if they had
// been read. rsync: flist.c recv_file_entry (first_hlink_ndx)
func (d *Decoder) copyAttrs(e, first *Entry) {
	o := &d.opts
	e.Size = first.Size
	d.modtime = first.Mtime
	e.MtimeNsec = first.MtimeNsec
	d.mode = first.Mode
	if o.PreserveAtimes && first.Mode&ModeTypeMask != ModeDir {
		d.atime = first.Atime()
	}
	if o.PreserveCrtimes {
		d.crtime = first.Crtime()
	}
	if o.PreserveUID {
		d.uid = first.UID
	}
	if o.PreserveGID {
		d.gid = first.GID
	}
	if o.PreserveDevices && isDevice(d.mode) {
		major, minor := first.Rdev()
		d.rdevMaj = major
		d.rdev = [2]uint32{major, minor}
	}
	if fx := first.x; fx != nil {
		x := d.slab.ext(e)
		x.linkTarget, x.sum = fx.linkTarget, fx.sum
	}
	e.Flags |= first.Flags & FlagSkipGroup
}

// setAttrs stores the inter-entry state (mode, times, ids, rdev) in e and
// checks the result: a valid file type (mode 0 only for a
// --delete-missing-args entry), a size that is not negative, and "." only
// as a directory. rsync: flist.c recv_file_entry
func (d *Decoder) setAttrs(e *Entry, raw []byte) error {
	o := &d.opts
	e.Mode = d.mode
	e.Mtime = d.modtime
	if o.PreserveAtimes && !e.IsDir() {
		d.slab.ext(e).atime = d.atime
	}
	if o.PreserveCrtimes {
		d.slab.ext(e).crtime = d.crtime
	}
	if o.PreserveUID {
		e.UID = d.uid
	}
	if o.PreserveGID {
		e.GID = d.gid
	}
	if o.PreserveDevices && e.IsDevice() {
		x := d.slab.ext(e)
		x.rdevMajor, x.rdevMinor = d.rdev[0], d.rdev[1]
	}
	if e.Mode == 0 && o.DeleteMissingArgs {
		e.Flags |= FlagMissing
	} else if !validType(e.Mode) {
		return incompatErr("invalid file mode 0%o for %s", e.Mode, raw)
	}
	if e.Size < 0 {
		return protoErr("negative file length %d for %s", e.Size, raw)
	}
	if !e.IsDir() && e.Dir == "" && e.Base == "." {
		return incompatErr("rejecting non-directory transfer-root entry: %s", raw)
	}
	return nil
}

// readAttrs reads what the flags did not abbreviate of a full entry's
// size, times, mode, ids with their names and rdev, in that order.
// rsync: flist.c recv_file_entry
func (d *Decoder) readAttrs(r *wire.Reader, e *Entry, xflags uint32) error {
	o := &d.opts
	size, err := readVarlong30(r, o, 3)
	if err != nil {
		return err
	}
	e.Size = size
	if err := d.readTimes(r, e, xflags); err != nil {
		return err
	}
	if err := d.readMode(r, xflags); err != nil {
		return err
	}
	if o.PreserveAtimes && d.mode&ModeTypeMask != ModeDir && xflags&xmitSameAtime == 0 {
		if d.atime, err = r.ReadVarlong(4); err != nil {
			return err
		}
	}
	if o.PreserveUID && xflags&xmitSameUID == 0 {
		if d.uid, err = d.readID(r, d.users, xflags&xmitUserNameFollows != 0); err != nil {
			return err
		}
	}
	if o.PreserveGID && xflags&xmitSameGID == 0 {
		if d.gid, err = d.readID(r, d.groups, xflags&xmitGroupNameFollow != 0); err != nil {
			return err
		}
	}
	return d.readRdev(r, e, xflags)
}

// readTimes reads the mtime unless repeated (a varlong from protocol 30,
// an unsigned int before), its nanoseconds with XMIT_MOD_NSEC, and the
// crtime under --crtimes unless it equals the mtime.
// rsync: flist.c recv_file_entry
func (d *Decoder) readTimes(r *wire.Reader, e *Entry, xflags uint32) error {
	var err error
	if xflags&xmitSameTime == 0 {
		if d.opts.Protocol >= 30 {
			if d.modtime, err = r.ReadVarlong(4); err != nil {
				return err
			}
		} else {
			v, err := r.ReadInt()
			if err != nil {
				return err
			}
			d.modtime = int64(uint32(v))
		}
	}
	if xflags&xmitModNsec != 0 {
		v, err := r.ReadVarint()
		if err != nil {
			return err
		}
		if v < 0 || v > maxWireNsec {
			return protoErr("wire value modtime_nsec out of range: %d", v)
		}
		e.MtimeNsec = uint32(v)
	}
	if d.opts.PreserveCrtimes {
		if xflags&xmitCrtimeEqMtime != 0 {
			d.crtime = d.modtime
		} else if d.crtime, err = r.ReadVarlong(4); err != nil {
			return err
		}
	}
	return nil
}

// readMode reads the mode unless repeated and checks its file type (mode
// 0 is a --delete-missing-args entry). rsync: flist.c recv_file_entry
func (d *Decoder) readMode(r *wire.Reader, xflags uint32) error {
	if xflags&xmitSameMode != 0 {
		return nil
	}
	v, err := r.ReadInt()
	if err != nil {
		return err
	}
	d.mode = uint32(v)
	if (d.mode != 0 || !d.opts.DeleteMissingArgs) && !validType(d.mode) {
		return incompatErr("invalid file mode 0%o", d.mode)
	}
	return nil
}

// readID reads a uid or gid and, from protocol 30 with its
// *_NAME_FOLLOWS flag, the name that follows it into names.
// rsync: flist.c recv_file_entry, uidlist.c recv_user_name
func (d *Decoder) readID(r *wire.Reader, names map[uint32]string, nameFollows bool) (uint32, error) {
	v, err := readVarint30(r, &d.opts)
	if err != nil {
		return 0, err
	}
	if nameFollows && d.opts.Protocol >= 30 {
		return uint32(v), readIDName(r, names, uint32(v))
	}
	return uint32(v), nil
}

// readRdev reads a device's numbers (or a special's dummy before protocol
// 31) as writeRdev sends them; devices and specials have no size.
// rsync: flist.c recv_file_entry
func (d *Decoder) readRdev(r *wire.Reader, e *Entry, xflags uint32) error {
	o := &d.opts
	proto := o.Protocol
	mode := d.mode
	if !(o.PreserveDevices && isDevice(mode)) && !(o.PreserveSpecials && isSpecial(mode) && proto < 31) {
		if isDevice(mode) {
			e.Size = 0
		} else if proto < 28 {
			d.rdev = [2]uint32{}
		}
		return nil
	}
	e.Size = 0
	if proto < 28 {
		if xflags&xmitSameRdevPre28 == 0 {
			v, err := r.ReadInt()
			if err != nil {
				return err
			}
			dev := uint64(int64(v))
			d.rdev = [2]uint32{unix.Major(dev), unix.Minor(dev)}
		}
		return nil
	}
	if xflags&xmitSameRdevMajor == 0 {
		v, err := readVarint30(r, o)
		if err != nil {
			return err
		}
		d.rdevMaj = uint32(v)
	}
	var minor uint32
	switch {
	case proto >= 30:
		v, err := r.ReadVarint()
		if err != nil {
			return err
		}
		minor = uint32(v)
	case xflags&xmitRdevMinor8Pre30 != 0:
		b, err := r.ReadByte()
		if err != nil {
			return err
		}
		minor = uint32(b)
	default:
		v, err := r.ReadInt()
		if err != nil {
			return err
		}
		minor = uint32(v)
	}
	d.rdev = [2]uint32{d.rdevMaj, minor}
	return nil
}

// readSum reads the whole-file checksum under --checksum: a regular
// file's is kept; before protocol 28 every entry carries one.
// rsync: flist.c recv_file_entry
func (d *Decoder) readSum(r *wire.Reader, e *Entry) error {
	o := &d.opts
	if !o.AlwaysChecksum || (!e.IsRegular() && o.Protocol >= 28) {
		return nil
	}
	sum := d.sumBuf[:o.sumLen()]
	if err := r.ReadFull(sum); err != nil {
		return err
	}
	if e.IsRegular() {
		d.slab.ext(e).sum = d.keepSum(sum)
	}
	return nil
}

// readLink reads a symlink's target, applying --munge-links and
// --sanitize-paths the way the receiver does.
func (d *Decoder) readLink(r *wire.Reader, e *Entry, raw []byte) error {
	o := &d.opts
	n, err := readVarint30(r, o)
	if err != nil {
		return err
	}
	if n < 0 || int(n)+1 > MaxPath {
		return protoErr("overflow: linkname_len=%d for %s", n, raw)
	}
	target := d.linkBuf[:n]
	if err := r.ReadFull(target); err != nil {
		return err
	}
	if bytes.IndexByte(target, 0) >= 0 {
		return protoErr("symlink target of %s contains a NUL byte", raw)
	}
	x := d.slab.ext(e)
	switch {
	case o.MungeSymlinks:
		x.linkTarget = symlinkMungePrefix + string(target)
	case o.SanitizePaths && len(target) > 0:
		x.linkTarget = d.names.str(target[:sanitizePath(target, d.lastDirDepth, 0)])
	default:
		x.linkTarget = d.names.str(target)
	}
	return nil
}

// readHLink assigns e's hard-link group, reading dev and inode before
// protocol 30.
func (d *Decoder) readHLink(r *wire.Reader, e *Entry, xflags uint32, firstNdx int32) error {
	if d.opts.Protocol >= 30 {
		if xflags&xmitHLinkFirst != 0 {
			d.slab.ext(e).hlinkGroup = d.ndxStart + int32(len(d.entries))
			e.Flags |= FlagHLinkFirst
		} else {
			d.slab.ext(e).hlinkGroup = firstNdx
		}
		return nil
	}
	if xflags&xmitSameDevPre30 == 0 {
		v, err := r.ReadLongint()
		if err != nil {
			return err
		}
		d.dev = v
	}
	ino, err := r.ReadLongint()
	if err != nil {
		return err
	}
	key := [2]int64{d.dev, ino}
	if d.idev == nil {
		d.idev = make(map[[2]int64]int32)
	}
	g, ok := d.idev[key]
	if !ok {
		g = d.hlinkCnt
		d.idev[key] = g
		d.hlinkCnt++
	}
	x := d.slab.ext(e)
	x.hlinkGroup = g
	x.dev, x.ino = uint64(d.dev-1), uint64(ino)
	return nil
}

// dirFlags derives a received directory's top/content/implied flags. l1 is
// the length shared with the previous name and nameLen the raw name's
// length (rsync's l1 + l2).
func (d *Decoder) dirFlags(e *Entry, xflags uint32, l1, nameLen int) {
	o := &d.opts
	if o.Protocol >= 30 {
		if xflags&xmitNoContentDir == 0 {
			if xflags&xmitTopDir != 0 {
				e.Flags |= FlagTopDir
			}
			e.Flags |= FlagContentDir
		} else if xflags&xmitTopDir != 0 {
			e.Flags |= FlagImpliedDir
		}
		return
	}
	// Before protocol 30 a top dir starts a hierarchy in which every
	// directory is a content dir. rsync: recv_file_entry in_del_hier
	depth := 1
	if e.Dir != "" {
		depth = d.lastDirDepth + 1
	}
	if e.Base == "." {
		depth--
	}
	last := d.lastName[:d.lastLen]
	if xflags&xmitTopDir != 0 {
		d.inDelHier = o.Recurse
		d.delHierLen = nameLen
		if depth == 0 {
			d.delHierLen = 0
		}
		if o.RelativePaths && d.delHierLen > 2 && last[d.delHierLen-1] == '.' && last[d.delHierLen-2] == '/' {
			d.delHierLen -= 2
		}
		e.Flags |= FlagTopDir | FlagContentDir
	} else if d.inDelHier {
		n := d.delHierLen
		// rsync tests the shared prefix (l1), not the whole name.
		if !o.RelativePaths || n == 0 || (l1 >= n && n < len(last) && last[n] == '/') {
			e.Flags |= FlagContentDir
		} else {
			d.inDelHier = false
		}
	}
}

// countDirElements counts a path's components. rsync: util1.c
// count_dir_elements
func countDirElements(p string) int {
	n, inName := 0, false
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			inName = false
		} else if !inName {
			inName = true
			n++
		}
	}
	return n
}

// ReadIDLists reads the uid and gid name lists that follow a complete
// file list (nothing with --numeric-ids). rsync: uidlist.c recv_id_list
func (d *Decoder) ReadIDLists(r *wire.Reader) error {
	o := &d.opts
	if o.NumericIDs {
		return nil
	}
	if o.PreserveUID {
		if err := readIDList(r, o, d.users, "uid"); err != nil {
			return err
		}
	}
	if o.PreserveGID {
		if err := readIDList(r, o, d.groups, "gid"); err != nil {
			return err
		}
	}
	return nil
}

// Users returns the uid-to-name map received so far.
func (d *Decoder) Users() map[uint32]string { return d.users }

// Groups returns the gid-to-name map received so far.
func (d *Decoder) Groups() map[uint32]string { return d.groups }

// ReadList reads a complete first file list as recv_file_list does: the
// entries, the end marker, the id lists (without incremental recursion),
// and before protocol 30 the io_error trailer; then it sorts and cleans the
// list. With incremental recursion the first list starts at index 1, holds
// only top-level names, and its ParentNdx is 0 when it starts with the
// directory "." (which is then the first of the transfer's directories),
// else -1. The list owns the entries: Entries returns none afterwards.
// rsync: flist.c recv_file_list
func (d *Decoder) ReadList(r *wire.Reader) (*List, error) {
	start := int32(0)
	if d.inc {
		start = 1
	}
	l, err := d.readList(r, start, "")
	if err != nil {
		return nil, err
	}
	l.ParentNdx = -1
	if d.inc && l.low <= l.high && l.Entries[l.low].Base == "." && l.Entries[l.low].IsDir() {
		l.ParentNdx = 0
	}
	return l, nil
}

// ReadSegment reads, with incremental recursion, the list of directory
// dir's entries that follows its header (NDX_FLIST_OFFSET - dir_ndx), its
// first entry having wire index ndxStart: the entries, which must all lie
// in dir, and the end marker; then it sorts and cleans the list. The
// decoder's state carries on from the lists before. The caller sets
// ParentNdx. rsync: flist.c recv_file_list (dir_ndx >= 0)
func (d *Decoder) ReadSegment(r *wire.Reader, ndxStart int32, dir string) (*List, error) {
	if !d.inc {
		return nil, incompatErr("file list segment without incremental recursion")
	}
	return d.readList(r, ndxStart, dir)
}

func (d *Decoder) readList(r *wire.Reader, ndxStart int32, dir string) (*List, error) {
	d.StartList(ndxStart)
	d.listDir = dir
	for {
		_, end, err := d.ReadEntry(r)
		if err != nil {
			return nil, err
		}
		if end {
			break
		}
	}
	if !d.inc {
		if err := d.ReadIDLists(r); err != nil {
			return nil, err
		}
	}
	if d.opts.Protocol < 30 {
		v, err := r.ReadInt()
		if err != nil {
			return nil, fmt.Errorf("read io_error: %w", err)
		}
		d.ioError |= v & IOErrValidMask
	}
	// The list takes the entries over (no copy: at a million entries the
	// copy would be 8 MB), so Entries is empty until the next list.
	l := &List{
		Entries:  d.entries,
		IOError:  d.ioError,
		Users:    d.users,
		Groups:   d.groups,
		NdxStart: ndxStart,
	}
	d.entries = nil
	l.SortAndClean(d.opts.Protocol, true)
	return l, nil
}
