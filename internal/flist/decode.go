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
	if len(s.buf) == 0 {
		s.buf = make([]Entry, entrySlab)
	}
	e := &s.buf[0]
	s.buf = s.buf[1:]
	return e
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
	if a.b.Cap()-a.b.Len() < len(p) {
		a.b = strings.Builder{}
		a.b.Grow(max(nameArenaChunk, len(p)))
	}
	start := a.b.Len()
	a.b.Write(p)
	return a.b.String()[start:]
}

// Decoder reads file-list entries from a peer, validating every field and
// carrying rsync's inter-entry state. One Decoder serves a whole
// connection. rsync: flist.c recv_file_entry, recv_file_list
type Decoder struct {
	opts Options

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
		users:  make(map[uint32]string),
		groups: make(map[uint32]string),
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
	e, err = d.readEntry(r, xflags)
	if err != nil {
		return nil, false, fmt.Errorf("recv file entry %d: %w", len(d.entries), err)
	}
	d.entries = append(d.entries, e)
	return e, false, nil
}

func (d *Decoder) readEntry(r *wire.Reader, xflags uint32) (*Entry, error) {
	o := &d.opts
	proto := o.Protocol

	// The name: a prefix shared with the previous name, then the rest.
	l1 := 0
	if xflags&xmitSameName != 0 {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		l1 = int(b)
	}
	var l2 int
	if xflags&xmitLongName != 0 {
		v, err := readVarint30(r, o)
		if err != nil {
			return nil, err
		}
		l2 = int(v)
	} else {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		l2 = int(b)
	}
	if l1 > d.lastLen {
		return nil, protoErr("name prefix %d longer than previous name (%d)", l1, d.lastLen)
	}
	if l2 < 0 || l2 >= MaxPath-l1 {
		return nil, protoErr("overflow: flags=0x%x l1=%d l2=%d", xflags, l1, l2)
	}
	if err := r.ReadFull(d.lastName[l1 : l1+l2]); err != nil {
		return nil, err
	}
	d.lastLen = l1 + l2
	raw := d.lastName[:d.lastLen]
	if len(raw) == 0 {
		return nil, protoErr("empty file name")
	}
	if bytes.IndexByte(raw, 0) >= 0 {
		return nil, protoErr("file name %q contains a NUL byte", raw)
	}
	name := d.nameBuf[:copy(d.nameBuf[:], raw)]
	n, ok := cleanName(name, CleanRefuseDotDotDirs)
	if !ok || (!o.RelativePaths && name[0] == '/') {
		return nil, fmt.Errorf("ABORTING due to unsafe pathname from sender: %s: %w", raw, ErrUnsafePath)
	}
	name = name[:n]
	if o.SanitizePaths {
		name = d.nameBuf[:copy(d.nameBuf[:], SanitizePath(string(name), 0))]
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

	var first *Entry
	firstNdx := int32(-1)
	if proto >= 30 && xflags&xmitHLinked != 0 && xflags&xmitHLinkFirst == 0 {
		v, err := r.ReadVarint()
		if err != nil {
			return nil, err
		}
		if v < 0 || int64(v) >= int64(d.ndxStart)+int64(len(d.entries)) {
			return nil, incompatErr("hard-link reference out of range: %d (%d)", v, int(d.ndxStart)+len(d.entries))
		}
		firstNdx = v
		if v >= d.ndxStart {
			first = d.entries[v-d.ndxStart]
		}
	}

	if first != nil {
		// An abbreviated hard-link follower takes its attributes from the
		// first member of its group.
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
	} else if err := d.readAttrs(r, e, xflags); err != nil {
		return nil, err
	}

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
		return nil, incompatErr("invalid file mode 0%o for %s", e.Mode, raw)
	}
	if e.Size < 0 {
		return nil, protoErr("negative file length %d for %s", e.Size, raw)
	}
	if !e.IsDir() && e.Dir == "" && e.Base == "." {
		return nil, incompatErr("rejecting non-directory transfer-root entry: %s", raw)
	}

	if first == nil && e.IsSymlink() && o.PreserveLinks {
		if err := d.readLink(r, e, raw); err != nil {
			return nil, err
		}
	}

	if e.IsDir() {
		d.dirFlags(e, xflags, l1, l1+l2)
	}

	hlinked := xflags&xmitHLinked != 0 || (proto < 28 && e.IsRegular())
	if o.PreserveHardLinks && hlinked {
		if !e.IsDir() {
			e.Flags |= FlagHLinked
		}
		if err := d.readHLink(r, e, xflags, firstNdx); err != nil {
			return nil, err
		}
	}

	if o.AlwaysChecksum && (e.IsRegular() || proto < 28) && first == nil {
		sum := d.sumBuf[:o.sumLen()]
		if err := r.ReadFull(sum); err != nil {
			return nil, err
		}
		if e.IsRegular() {
			d.slab.ext(e).sum = d.keepSum(sum)
		}
	}
	return e, nil
}

// readAttrs reads the size, times, mode, ids and rdev of a full entry.
func (d *Decoder) readAttrs(r *wire.Reader, e *Entry, xflags uint32) error {
	o := &d.opts
	proto := o.Protocol
	size, err := readVarlong30(r, o, 3)
	if err != nil {
		return err
	}
	e.Size = size
	if xflags&xmitSameTime == 0 {
		if proto >= 30 {
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
	if o.PreserveCrtimes {
		if xflags&xmitCrtimeEqMtime != 0 {
			d.crtime = d.modtime
		} else if d.crtime, err = r.ReadVarlong(4); err != nil {
			return err
		}
	}
	if xflags&xmitSameMode == 0 {
		v, err := r.ReadInt()
		if err != nil {
			return err
		}
		d.mode = uint32(v)
		if d.mode != 0 || !o.DeleteMissingArgs {
			if !validType(d.mode) {
				return incompatErr("invalid file mode 0%o", d.mode)
			}
		}
	}
	if o.PreserveAtimes && d.mode&ModeTypeMask != ModeDir && xflags&xmitSameAtime == 0 {
		if d.atime, err = r.ReadVarlong(4); err != nil {
			return err
		}
	}
	if o.PreserveUID && xflags&xmitSameUID == 0 {
		if proto < 30 {
			v, err := r.ReadInt()
			if err != nil {
				return err
			}
			d.uid = uint32(v)
		} else {
			v, err := r.ReadVarint()
			if err != nil {
				return err
			}
			d.uid = uint32(v)
			if xflags&xmitUserNameFollows != 0 {
				if err := readIDName(r, d.users, d.uid); err != nil {
					return err
				}
			}
		}
	}
	if o.PreserveGID && xflags&xmitSameGID == 0 {
		if proto < 30 {
			v, err := r.ReadInt()
			if err != nil {
				return err
			}
			d.gid = uint32(v)
		} else {
			v, err := r.ReadVarint()
			if err != nil {
				return err
			}
			d.gid = uint32(v)
			if xflags&xmitGroupNameFollow != 0 {
				if err := readIDName(r, d.groups, d.gid); err != nil {
					return err
				}
			}
		}
	}
	mode := d.mode
	switch {
	case (o.PreserveDevices && isDevice(mode)) || (o.PreserveSpecials && isSpecial(mode) && proto < 31):
		if proto < 28 {
			if xflags&xmitSameRdevPre28 == 0 {
				v, err := r.ReadInt()
				if err != nil {
					return err
				}
				dev := uint64(int64(v))
				d.rdev = [2]uint32{unix.Major(dev), unix.Minor(dev)}
			}
		} else {
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
		}
		e.Size = 0
	case isDevice(mode):
		e.Size = 0
	case proto < 28:
		d.rdev = [2]uint32{}
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
		x.linkTarget = SanitizePath(string(target), d.lastDirDepth)
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
// entries, the end marker, the id lists, and before protocol 30 the
// io_error trailer; then it sorts and cleans the list. The list owns the
// entries: Entries returns none afterwards.
func (d *Decoder) ReadList(r *wire.Reader) (*List, error) {
	d.StartList(0)
	for {
		_, end, err := d.ReadEntry(r)
		if err != nil {
			return nil, err
		}
		if end {
			break
		}
	}
	if !d.opts.IncRecurse() {
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
		Entries: d.entries,
		IOError: d.ioError,
		Users:   d.users,
		Groups:  d.groups,
	}
	d.entries = nil
	l.SortAndClean(d.opts.Protocol, true)
	return l, nil
}
