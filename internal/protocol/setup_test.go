package protocol

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/transport"
	"github.com/gorsync/gorsync/internal/wire"
)

// duplex connects a client and a server Setup through in-memory streams.
type duplex struct {
	r io.Reader
	w io.Writer
}

func (d duplex) Read(p []byte) (int, error)  { return d.r.Read(p) }
func (d duplex) Write(p []byte) (int, error) { return d.w.Write(p) }

func pair(t *testing.T, client, server Config) (*Session, *Session) {
	t.Helper()
	c2s, s2c := transport.NewPipe(4096), transport.NewPipe(4096)
	type result struct {
		s   *Session
		err error
	}
	run := func(cfg Config, rw duplex, out chan<- result) {
		r, w := wire.NewReader(rw), wire.NewWriter(rw)
		neg, remote, err := ExchangeVersions(r, w, cfg.Protocol)
		if err != nil {
			out <- result{nil, err}
			return
		}
		s, err := Setup(r, w, cfg, neg, remote)
		out <- result{s, err}
	}
	cc, sc := make(chan result, 1), make(chan result, 1)
	go run(client, duplex{s2c, c2s}, cc)
	go run(server, duplex{c2s, s2c}, sc)
	c, s := <-cc, <-sc
	if c.err != nil || s.err != nil {
		t.Fatalf("client: %v, server: %v", c.err, s.err)
	}
	return c.s, s.s
}

func TestSetupNegotiates(t *testing.T) {
	tests := []struct {
		name           string
		proto          int
		info           string
		choice, env    string
		want           checksum.Kind
		wantNegotiated bool
	}{
		{"proto32 default", 32, ClientCapabilities, "", "", checksum.XXH128, true},
		{"proto31 env prefers md5", 31, ClientCapabilities, "", "md5 md4", checksum.MD5, true},
		{"proto30 without v", 30, ".LfxCIu", "", "", checksum.MD5, false},
		{"proto29 implied md4", 29, "", "", "", checksum.MD4Old, false},
		{"choice sha1", 32, ClientCapabilities, "sha1", "", checksum.SHA1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := pair(t,
				Config{Protocol: tt.proto, ChecksumChoice: tt.choice, ChecksumEnv: tt.env, AmSender: true},
				Config{AmServer: true, Protocol: MaxVersion, ClientInfo: tt.info, ChecksumChoice: tt.choice, ChecksumEnv: tt.env, Seed: 12345})
			if c.Protocol != tt.proto || s.Protocol != tt.proto {
				t.Errorf("protocol %d/%d, want %d", c.Protocol, s.Protocol, tt.proto)
			}
			if c.XferSum != tt.want || s.XferSum != tt.want {
				t.Errorf("checksum %v/%v, want %v", c.XferSum, s.XferSum, tt.want)
			}
			if c.Negotiated != tt.wantNegotiated {
				t.Errorf("negotiated = %v", c.Negotiated)
			}
			if c.Seed != 12345 || c.CompatFlags != s.CompatFlags {
				t.Errorf("seed %d, flags %x/%x", c.Seed, c.CompatFlags, s.CompatFlags)
			}
		})
	}
}

func TestServerCompatFlagsFromClientInfo(t *testing.T) {
	_, s := pair(t, Config{Protocol: 32}, Config{AmServer: true, Protocol: 32, ClientInfo: ".LsfxCIvu"})
	want := uint32(CFSymlinkTimes | CFSafeFlist | CFAvoidXattrOptim | CFChksumSeedFix | CFInplacePartialDir | CFVarintFlistFlags | CFID0Names)
	if s.CompatFlags != want {
		t.Errorf("compat flags %#x, want %#x (no incremental recursion, no iconv)", s.CompatFlags, want)
	}
}

func TestVersionMismatch(t *testing.T) {
	var out bytes.Buffer
	for _, v := range []int32{5, 1000} {
		in := bytes.NewReader([]byte{byte(v), byte(v >> 8), 0, 0})
		_, _, err := ExchangeVersions(wire.NewReader(in), wire.NewWriter(&out), 32)
		if !errors.Is(err, wire.ErrIncompatible) {
			t.Errorf("version %d: %v", v, err)
		}
	}
	in := bytes.NewReader([]byte{26, 0, 0, 0})
	_, _, err := ExchangeVersions(wire.NewReader(in), wire.NewWriter(&out), 32)
	var ve *VersionError
	if !errors.As(err, &ve) {
		t.Errorf("protocol 26: %v", err)
	}
}

// FuzzClientSetup feeds arbitrary server bytes to a client's set-up: it must
// fail cleanly or succeed, never panic.
func FuzzClientSetup(f *testing.F) {
	f.Add([]byte{0xbf, 0x01, 0x1e, 'x', 'x', 'h', '1', '2', '8', ' ', 'x', 'x', 'h', '3', ' ', 'x', 'x', 'h', '6', '4', ' ', 'm', 'd', '5', ' ', 'm', 'd', '4', ' ', 's', 'h', 'a', '1', 1, 2, 3, 4})
	f.Add([]byte{0x81, 0x80, 0xff})
	f.Add([]byte{0x20, 0x05, 'x', 'x', 'h', '9', '9', 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		Setup(wire.NewReader(bytes.NewReader(data)), wire.NewWriter(&out), Config{Protocol: 32}, 32, 32)
	})
}

// TestFileParamsUnseeded checks that --checksum sums at protocol 29 are
// plain MD4 of the file (rsync's file_checksum), not the seeded MD4 of the
// transfer sums: the same data under two seeds sums the same, and equals
// the MD4 of the data with no seed.
func TestFileParamsUnseeded(t *testing.T) {
	data := bytes.Repeat([]byte("gorsync "), 1000)
	var sums [][]byte
	for _, seed := range []int32{0, 1234567} {
		s := &Session{Protocol: 29, Seed: seed, XferSum: checksum.MD4Old, FileSum: checksum.MD4Old}
		h := checksum.NewFileHasher(s.FileParams())
		h.Write(data)
		sums = append(sums, h.Sum(nil))
	}
	plain := checksum.NewFileHasher(checksum.Params{Kind: checksum.MD4})
	plain.Write(data)
	want := plain.Sum(nil)
	for i, got := range sums {
		if !bytes.Equal(got, want) {
			t.Errorf("sum %d = %x, want plain MD4 %x", i, got, want)
		}
	}
}
