package flist

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/wire"
)

// fakeNames is a fixed id-to-name table.
type fakeNames map[uint32]string

func (f fakeNames) UserName(id uint32) string  { return f[id] }
func (f fakeNames) GroupName(id uint32) string { return f[id+100000] }

var testNames = fakeNames{0: "root", 1000: "alice", 100000: "wheel", 101000: "staff"}

// encodeList encodes entries as a complete list with its trailer.
func encodeList(t testing.TB, o Options, entries []*Entry, ioError int32) []byte {
	t.Helper()
	enc, err := NewEncoder(o, testNames)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := wire.NewWriter(&buf)
	for _, e := range entries {
		if err := enc.WriteEntry(w, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := enc.WriteListEnd(w, ioError); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeEntries reads entries in sending order plus the trailer.
func decodeEntries(o Options, data []byte) ([]*Entry, *Decoder, error) {
	dec, err := NewDecoder(o)
	if err != nil {
		return nil, nil, err
	}
	r := wire.NewReader(bytes.NewReader(data))
	dec.StartList(0)
	for {
		_, end, err := dec.ReadEntry(r)
		if err != nil {
			return nil, dec, err
		}
		if end {
			break
		}
	}
	if err := dec.ReadIDLists(r); err != nil {
		return nil, dec, err
	}
	if o.Protocol < 30 {
		v, err := r.ReadInt()
		if err != nil {
			return nil, dec, err
		}
		dec.ioError |= v
	}
	return dec.Entries(), dec, nil
}

func sampleEntries() []*Entry {
	long := strings.Repeat("L", 300)
	return []*Entry{
		{Base: ".", Mode: ModeDir | 0o755, Size: 4096, Mtime: 1700000000, MtimeNsec: 5, Flags: FlagTopDir | FlagContentDir, UID: 0, GID: 0},
		{Base: "file", Mode: ModeRegular | 0o644, Size: 1 << 40, Mtime: 1700000001, UID: 1000, GID: 1000, x: &entryExt{atime: 1700000100, crtime: 1700000001, nlink: 2, dev: 7, ino: 99}},
		{Base: "link", Mode: ModeSymlink | 0o777, Size: 4, Mtime: 1700000001, UID: 1000, GID: 1000, x: &entryExt{atime: 5, crtime: 9, linkTarget: "file"}},
		// A hard link shares its inode, hence every attribute, with "file".
		{Dir: "sub", Base: "hard", Mode: ModeRegular | 0o644, Size: 1 << 40, Mtime: 1700000001, UID: 1000, GID: 1000, x: &entryExt{atime: 1700000100, crtime: 1700000001, nlink: 2, dev: 7, ino: 99}},
		{Base: "chr", Mode: ModeChar | 0o600, Mtime: -5, UID: 7, GID: 8, x: &entryExt{rdevMajor: 1, rdevMinor: 3}},
		{Base: "chr2", Mode: ModeChar | 0o600, Mtime: -5, x: &entryExt{rdevMajor: 1, rdevMinor: 300}},
		{Base: "blk", Mode: ModeBlock | 0o600, Mtime: 1 << 33, x: &entryExt{rdevMajor: 259, rdevMinor: 1 << 20}},
		{Base: "fifo", Mode: ModeFIFO | 0o644, Mtime: 3},
		{Base: "sock", Mode: ModeSocket | 0o755, Mtime: 3},
		{Base: "sub", Mode: ModeDir | 0o700, Size: 10, Mtime: 3, Flags: FlagContentDir},
		{Dir: "sub/" + long, Base: long, Mode: ModeRegular | 0o600, Size: 12, Mtime: 4, MtimeNsec: 999999999},
		{Base: "implied", Mode: ModeDir | 0o755, Mtime: 4, Flags: FlagImpliedDir},
		{Base: "nocontent", Mode: ModeDir | 0o755, Mtime: 4},
	}
}

// codecVariants lists option sets that upstream's batch files cannot
// produce (protocol 30 without varint flags, atimes, crtimes, every
// preserve flag off) next to ordinary ones.
func codecVariants() []Options {
	full := Options{Recurse: true, PreserveUID: true, PreserveGID: true, PreserveLinks: true, PreserveDevices: true, PreserveSpecials: true, PreserveHardLinks: true, AlwaysChecksum: true, ChecksumLen: 16}
	var out []Options
	for p := MinProtocol; p <= MaxProtocol; p++ {
		o := full
		o.Protocol = p
		out = append(out, o)
		if p >= 30 {
			o.CompatFlags = CFVarintFlistFlags | CFSafeFlist | CFID0Names
			o.PreserveAtimes = true
			o.PreserveCrtimes = true
			out = append(out, o)
		}
		out = append(out, Options{Protocol: p})
		o = full
		o.Protocol, o.NumericIDs, o.AlwaysChecksum = p, true, false
		out = append(out, o)
	}
	return out
}

func TestCodecRoundTrip(t *testing.T) {
	for _, o := range codecVariants() {
		t.Run(fmt.Sprintf("p%d-cf%x-uid%v-atime%v-numeric%v", o.Protocol, o.CompatFlags, o.PreserveUID, o.PreserveAtimes, o.NumericIDs), func(t *testing.T) {
			in := sampleEntries()
			for _, e := range in {
				if e.IsRegular() {
					e.SetSum(bytes.Repeat([]byte{byte(e.Size)}, 16))
				}
			}
			data := encodeList(t, o, in, 0)
			out, dec, err := decodeEntries(o, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(in) {
				t.Fatalf("decoded %d entries, want %d", len(out), len(in))
			}
			for i, a := range in {
				b := out[i]
				want := *a
				if a.x != nil {
					x := *a.x
					want.x = &x
				}
				if o.Protocol < 30 {
					want.Mtime = int64(uint32(want.Mtime))
				}
				if o.Protocol < 31 {
					want.MtimeNsec = 0
				}
				if !o.PreserveLinks {
					want.SetLinkTarget("")
				}
				if !o.PreserveUID {
					want.UID = 0
				}
				if !o.PreserveGID {
					want.GID = 0
				}
				if major, minor := want.Rdev(); !o.PreserveDevices {
					want.SetRdev(0, 0)
				} else if o.Protocol < 28 {
					// A 32-bit dev_t on the wire keeps 12 bits of the
					// major and 20 of the minor.
					want.SetRdev(major&0xfff, minor&0xfffff)
				}
				if !o.PreserveAtimes || want.IsDir() {
					want.SetAtime(0)
				}
				if !o.PreserveCrtimes {
					want.SetCrtime(0)
				}
				if !o.AlwaysChecksum {
					want.SetSum(nil)
				}
				if want.IsDir() && o.Protocol < 30 {
					// Only XMIT_TOP_DIR travels; content-ness is derived.
					switch {
					case want.Flags&FlagTopDir != 0:
						want.Flags = FlagTopDir | FlagContentDir
					case o.Recurse:
						want.Flags = FlagContentDir // inside the "." hierarchy
					default:
						want.Flags = 0
					}
				}
				describe := func(e *Entry) string {
					major, minor := e.Rdev()
					return fmt.Sprintf("%s mode=%o size=%d mtime=%d.%d atime=%d crtime=%d uid=%d gid=%d rdev=%d,%d link=%q sum=%x flags=%b",
						e.Name(), e.Mode, e.Size, e.Mtime, e.MtimeNsec, e.Atime(), e.Crtime(), e.UID, e.GID, major, minor, e.LinkTarget(), e.Sum(), e.Flags&(FlagTopDir|FlagContentDir|FlagImpliedDir))
				}
				got, exp := describe(b), describe(&want)
				if got != exp {
					t.Errorf("entry %d:\n got %s\nwant %s", i, got, exp)
				}
			}
			if o.PreserveHardLinks {
				f, h := out[1], out[3]
				if f.Flags&FlagHLinked == 0 || h.Flags&FlagHLinked == 0 || f.HLinkGroup() != h.HLinkGroup() {
					t.Errorf("hard links not grouped: %+v / %+v", f, h)
				}
			}
			if o.PreserveUID && !o.NumericIDs {
				wantUsers := map[uint32]string{1000: "alice"}
				if o.ID0Names() {
					wantUsers[0] = "root"
				}
				if !maps.Equal(dec.Users(), wantUsers) {
					t.Errorf("users %v, want %v", dec.Users(), wantUsers)
				}
			}
		})
	}
}

func TestEndMarkerIOError(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		ioError int32
		wantMsg bool // the caller must send MSG_IO_ERROR
	}{
		{"protocol 29 trailer", Options{Protocol: 29}, 1, false},
		{"protocol 30 no safe flist", Options{Protocol: 30}, 2, true},
		{"protocol 30 safe flist", Options{Protocol: 30, CompatFlags: CFSafeFlist}, 2, false},
		{"protocol 31 byte flags", Options{Protocol: 31}, 3, false},
		{"protocol 32 varint flags", Options{Protocol: 32, CompatFlags: CFVarintFlistFlags}, 3, false},
		{"protocol 32 no error", Options{Protocol: 32, CompatFlags: CFVarintFlistFlags}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, _ := NewEncoder(tt.o, testNames)
			var buf bytes.Buffer
			w := wire.NewWriter(&buf)
			enc.WriteEntry(w, &Entry{Base: "x", Mode: ModeRegular | 0o644})
			needMsg, err := enc.WriteListEnd(w, tt.ioError)
			if err != nil {
				t.Fatal(err)
			}
			w.Flush()
			if needMsg != tt.wantMsg {
				t.Errorf("needMsg = %v, want %v", needMsg, tt.wantMsg)
			}
			dec, _ := NewDecoder(tt.o)
			l, err := dec.ReadList(wire.NewReader(bytes.NewReader(buf.Bytes())))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.ioError
			if tt.wantMsg {
				want = 0
			}
			if l.IOError != want {
				t.Errorf("received io_error %d, want %d", l.IOError, want)
			}
		})
	}
}

// TestDecodeRejects feeds hostile lists and checks each is refused with
// the right class of error.
func TestDecodeRejects(t *testing.T) {
	p32 := Options{Protocol: 32, CompatFlags: CFVarintFlistFlags}
	p29 := Options{Protocol: 29}
	enc := func(o Options, es ...*Entry) []byte {
		enc, _ := NewEncoder(o, testNames)
		var buf bytes.Buffer
		w := wire.NewWriter(&buf)
		for _, e := range es {
			enc.WriteEntry(w, e)
		}
		enc.WriteEnd(w, 0)
		w.Flush()
		return buf.Bytes()
	}
	reg := func(name string) *Entry {
		d, b := splitName(name)
		return &Entry{Dir: d, Base: b, Mode: ModeRegular | 0o644}
	}
	tests := []struct {
		name   string
		o      Options
		data   []byte
		unsafe bool // ErrUnsafePath rather than ErrProtocol
	}{
		{"dot-dot", p32, enc(p32, reg("../etc/passwd")), true},
		{"inner dot-dot", p32, enc(p32, reg("a/../../b")), true},
		{"absolute", p32, enc(p32, reg("/etc/passwd")), true},
		{"absolute protocol 29", p29, enc(p29, reg("/etc/passwd")), true},
		{"dot not a dir", p32, enc(p32, reg(".")), false},
		{"no file type", p32, enc(p32, &Entry{Base: "x", Mode: 0o644}), false},
		{"bogus file type", p32, enc(p32, &Entry{Base: "x", Mode: 0o170644}), false},
		{"negative size", p32, enc(p32, &Entry{Base: "x", Mode: ModeRegular, Size: -1}), false},
		{"nsec too big", p32, enc(p32, &Entry{Base: "x", Mode: ModeRegular, Mtime: 1, MtimeNsec: 1e9}), false},
		{"prefix beyond previous name", p29, []byte{xmitSameName | xmitTopDir, 5, 1, 'x'}, false},
		{"overlong name", p29, []byte{xmitLongName | xmitTopDir, 0x00, 0x10, 0, 0}, false},
		{"negative name length", p29, []byte{xmitLongName | xmitTopDir, 0xff, 0xff, 0xff, 0xff}, false},
		{"empty name", p29, []byte{xmitTopDir, 0}, false},
		{"nul in name", p29, []byte{xmitTopDir, 3, 'a', 0, 'b'}, false},
		{"hard-link ref out of range", Options{Protocol: 32, CompatFlags: CFVarintFlistFlags, PreserveHardLinks: true},
			[]byte{0x82, 0x00, 1, 'x', 5}, false},
		{"symlink target too long", Options{Protocol: 29, PreserveLinks: true},
			append(append([]byte{xmitTopDir, 1, 'l', 0, 0, 0, 0, 1, 0, 0, 0}, 0xff, 0xa1, 0, 0), 0x00, 0x20, 0, 0), false},
		{"io error marker without safe flist", Options{Protocol: 30}, []byte{0x04, 0x10, 1}, false},
		{"truncated", p32, enc(p32, reg("abc"))[:3], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeEntries(tt.o, tt.data)
			if err == nil {
				t.Fatal("accepted")
			}
			t.Log(err)
			if tt.unsafe {
				if !errors.Is(err, ErrUnsafePath) {
					t.Errorf("error %v is not ErrUnsafePath", err)
				}
			} else if !errors.Is(err, wire.ErrProtocol) && !errors.Is(err, wire.ErrIncompatible) {
				t.Errorf("error %v is neither ErrProtocol nor ErrIncompatible", err)
			}
		})
	}
}

func TestDecodeCleansAndSanitizes(t *testing.T) {
	o := Options{Protocol: 31, PreserveLinks: true, RelativePaths: true}
	data := encodeList(t, o, []*Entry{
		{Dir: "a//b/.", Base: "c", Mode: ModeRegular | 0o644},
		{Dir: "/abs", Base: "d", Mode: ModeSymlink | 0o777, x: &entryExt{linkTarget: "../../../etc"}},
	}, 0)
	out, _, err := decodeEntries(o, data)
	if err != nil {
		t.Fatal(err)
	}
	if n := out[0].Name(); n != "a/b/c" {
		t.Errorf("cleaned name %q, want a/b/c", n)
	}
	if n := out[1].Name(); n != "/abs/d" || out[1].LinkTarget() != "../../../etc" {
		t.Errorf("relative name %q -> %q", n, out[1].LinkTarget())
	}
	o.SanitizePaths = true
	out, _, err = decodeEntries(o, data)
	if err != nil {
		t.Fatal(err)
	}
	if n := out[1].Name(); n != "abs/d" || out[1].LinkTarget() != "../etc" {
		t.Errorf("sanitized %q -> %q, want abs/d -> ../etc", n, out[1].LinkTarget())
	}
	o.SanitizePaths, o.MungeSymlinks = false, true
	out, _, _ = decodeEntries(o, data)
	if out[1].LinkTarget() != "/rsyncd-munged/../../../etc" {
		t.Errorf("munged target %q", out[1].LinkTarget())
	}
}

func TestDecodeSharesDirStrings(t *testing.T) {
	o := Options{Protocol: 32, CompatFlags: CFVarintFlistFlags}
	data := encodeList(t, o, mk("d/", "d/x", "d/y", "d/z"), 0)
	out, _, err := decodeEntries(o, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range out[1:] {
		if e.Dir != "d" {
			t.Fatalf("%q: dir %q, want d", e.Name(), e.Dir)
		}
	}
	if p1, p2 := stringData(out[1].Dir), stringData(out[3].Dir); p1 != p2 {
		t.Error("entries of one directory do not share the dir string")
	}
}

func TestMissingArgEntry(t *testing.T) {
	o := Options{Protocol: 31, DeleteMissingArgs: true}
	data := encodeList(t, o, []*Entry{{Base: "gone"}}, 0)
	out, _, err := decodeEntries(o, data)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Flags&FlagMissing == 0 {
		t.Error("mode-0 entry not marked missing")
	}
	o.DeleteMissingArgs = false
	if _, _, err := decodeEntries(o, data); !errors.Is(err, wire.ErrProtocol) && !errors.Is(err, wire.ErrIncompatible) {
		t.Errorf("mode 0 accepted without --delete-missing-args: %v", err)
	}
}

func TestValidate(t *testing.T) {
	bad := []Options{
		{Protocol: 26},
		{Protocol: 33},
		{Protocol: 31, AlwaysChecksum: true},
		{Protocol: 31, AlwaysChecksum: true, ChecksumLen: 65},
		{Protocol: 31, PreserveCrtimes: true},
	}
	for _, o := range bad {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestDecodeLargeList decodes a list whose names and symlink targets span
// several name buffers and entry chunks, and checks every entry survives
// intact while the decoder allocates far less than once per entry.
func TestDecodeLargeList(t *testing.T) {
	o := Options{Protocol: 31, CompatFlags: CFVarintFlistFlags | CFSafeFlist, Recurse: true, PreserveLinks: true, PreserveDevices: true}
	var in []*Entry
	for d := range 20 {
		dir := fmt.Sprintf("dir-%02d-%s", d, strings.Repeat("x", d))
		in = append(in, &Entry{Base: dir, Mode: ModeDir | 0o755})
		for f := range 1000 {
			e := &Entry{Dir: dir, Base: fmt.Sprintf("file-%05d-%s", f, strings.Repeat("n", f%40)), Mode: ModeRegular | 0o644, Size: int64(f)}
			switch f % 50 {
			case 0:
				e.Mode = ModeSymlink | 0o777
				e.SetLinkTarget(fmt.Sprintf("../target/%d/%s", f, strings.Repeat("t", f%300)))
			case 1:
				e.Mode = ModeChar | 0o600
				e.Size = 0
				e.SetRdev(uint32(d), uint32(f))
			}
			in = append(in, e)
		}
	}
	data := encodeList(t, o, in, 0)
	var l *List
	allocs := testing.AllocsPerRun(1, func() {
		dec, err := NewDecoder(o)
		if err != nil {
			t.Fatal(err)
		}
		if l, err = dec.ReadList(wire.NewReader(bytes.NewReader(data))); err != nil {
			t.Fatal(err)
		}
	})
	if max := float64(len(in)) / 20; allocs > max {
		t.Errorf("decoding %d entries took %.0f allocations, want at most %.0f", len(in), allocs, max)
	}
	want := map[string]string{}
	for _, e := range in {
		major, minor := e.Rdev()
		want[e.Name()] = fmt.Sprintf("%o %d %q %d,%d", e.Mode, e.Size, e.LinkTarget(), major, minor)
	}
	if l.Len() != len(in) {
		t.Fatalf("decoded %d entries, want %d", l.Len(), len(in))
	}
	for _, e := range l.Entries {
		major, minor := e.Rdev()
		if got := fmt.Sprintf("%o %d %q %d,%d", e.Mode, e.Size, e.LinkTarget(), major, minor); got != want[e.Name()] {
			t.Errorf("%s: %s, want %s", e.Name(), got, want[e.Name()])
		}
	}
}
