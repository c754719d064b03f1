package flist

import (
	"bytes"
	"testing"

	"github.com/gorsync/gorsync/internal/wire"
)

// fuzzVariantsPerProtocol is how many option sets fuzzVariant offers for
// each protocol.
const fuzzVariantsPerProtocol = 5

// fuzzVariant maps a fuzz input's first byte to decoding options. Variant 0
// of each protocol is what "rsync -a" negotiates (testdata seeds are
// upstream's own lists); the others reach the remaining code paths.
func fuzzVariant(b byte) Options {
	n := int(b) % ((MaxProtocol - MinProtocol + 1) * fuzzVariantsPerProtocol)
	p := MinProtocol + n/fuzzVariantsPerProtocol
	compat := 0
	if p >= 30 {
		compat = 0x1fe
	}
	all := Options{Protocol: p, CompatFlags: compat, Recurse: true, PreserveUID: true, PreserveGID: true, PreserveLinks: true, PreserveDevices: true, PreserveSpecials: true}
	switch n % fuzzVariantsPerProtocol {
	case 1:
		all.PreserveHardLinks, all.AlwaysChecksum, all.ChecksumLen = true, true, 16
		all.PreserveAtimes, all.PreserveCrtimes = true, p >= 30
	case 2:
		all.CompatFlags = 0
		all.PreserveAtimes = true
	case 3:
		return Options{Protocol: p, CompatFlags: compat}
	case 4:
		all.NumericIDs, all.RelativePaths, all.SanitizePaths, all.MungeSymlinks, all.DeleteMissingArgs = true, true, true, true, true
	}
	return all
}

// fuzzSeeds are our own encodings of the sample entries for a spread of
// variants (upstream's are in testdata/fuzz).
func fuzzSeeds(f *testing.F) {
	for v := 0; v < (MaxProtocol-MinProtocol+1)*fuzzVariantsPerProtocol; v += 2 {
		o := fuzzVariant(byte(v))
		in := sampleEntries()
		for _, e := range in {
			if e.IsRegular() {
				e.SetSum(make([]byte, 16))
			}
		}
		f.Add(append([]byte{byte(v)}, encodeList(f, o, in, 1)...))
	}
}

// FuzzReadEntry decodes arbitrary bytes as a complete file list: it must
// never panic, and whatever it accepts must sort, clean and count.
func FuzzReadEntry(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		o := fuzzVariant(data[0])
		dec, err := NewDecoder(o)
		if err != nil {
			t.Fatal(err)
		}
		l, err := dec.ReadList(wire.NewReader(bytes.NewReader(data[1:])))
		if err != nil {
			return
		}
		for _, e := range l.Entries {
			if e.Base == "" || len(e.Name()) >= MaxPath {
				t.Fatalf("accepted bad name %q", e.Name())
			}
			if !o.RelativePaths && e.Dir != "" && e.Dir[0] == '/' {
				t.Fatalf("accepted absolute name %q", e.Name())
			}
		}
		l.Counts()
		for i := range l.Entries {
			l.Find(l.Entries[i])
		}
	})
}

// FuzzReadIDLists decodes arbitrary bytes as the uid and gid lists.
func FuzzReadIDLists(f *testing.F) {
	for _, v := range []byte{0, 5, 15, 25} {
		o := fuzzVariant(v)
		enc, _ := NewEncoder(o, testNames)
		var buf bytes.Buffer
		w := wire.NewWriter(&buf)
		for _, e := range sampleEntries() {
			enc.WriteEntry(w, e)
		}
		w.Flush()
		buf.Reset()
		enc.WriteIDLists(w)
		w.Flush()
		f.Add(append([]byte{v}, buf.Bytes()...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		dec, err := NewDecoder(fuzzVariant(data[0]))
		if err != nil {
			t.Fatal(err)
		}
		if err := dec.ReadIDLists(wire.NewReader(bytes.NewReader(data[1:]))); err != nil {
			return
		}
		for _, n := range dec.Users() {
			if n == "" || len(n) > 255 {
				t.Fatalf("bad user name %q", n)
			}
		}
	})
}
