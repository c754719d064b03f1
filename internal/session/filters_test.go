package session

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/options"
)

// TestServerRejectsMalformedWireRule feeds a server sender a client stream
// whose filter list holds a rule that does not parse: the server stops with
// a protocol data stream error (exit 12) and rsync's message.
func TestServerRejectsMalformedWireRule(t *testing.T) {
	var in bytes.Buffer
	binary.Write(&in, binary.LittleEndian, int32(32))
	list := "xxh128 xxh3 xxh64 md5 md4 sha1"
	in.WriteByte(byte(len(list)))
	in.WriteString(list)
	rule := "x bogus"
	var payload bytes.Buffer
	binary.Write(&payload, binary.LittleEndian, int32(len(rule)))
	payload.WriteString(rule)
	binary.Write(&payload, binary.LittleEndian, int32(0))
	binary.Write(&in, binary.LittleEndian, uint32(7<<24|payload.Len()))
	in.Write(payload.Bytes())

	o, err := options.Parse([]string{"--server", "--sender", "-logDtpre.LfxCIvu", ".", t.TempDir() + "/"}, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cfg, err := NewConfig(o, Env{Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), cfg, stdio{&in, io.Discard})
	if code := exitcode.Of(err); code != 12 {
		t.Fatalf("exit code %d (%v), want 12", code, err)
	}
	if !bytes.Contains(stderr.Bytes(), []byte("Unknown filter rule: x bogus")) && !bytes.Contains([]byte(err.Error()), []byte("Unknown filter rule: x bogus")) {
		t.Errorf("message missing: %v\n%s", err, stderr.String())
	}
}

// TestRejectExcludedNames checks the receiving client's guard against a
// sender that lists what the client's own rules exclude.
func TestRejectExcludedNames(t *testing.T) {
	mk := func(names ...string) *flist.List {
		l := &flist.List{}
		for _, n := range names {
			dir, base := path.Split(n)
			l.Entries = append(l.Entries, &flist.Entry{Dir: strings.TrimSuffix(dir, "/"), Base: base, Mode: flist.ModeRegular | 0o644})
		}
		return l
	}
	tests := []struct {
		name   string
		sent   []string
		cvs    bool
		names  []string
		reject bool
	}{
		{"excluded name", []string{"- *.o"}, false, []string{"a.c", "sub/b.o"}, true},
		{"all allowed", []string{"- *.o"}, false, []string{"a.c", "sub/b.c"}, false},
		{"no rules", nil, false, []string{"x.o"}, false},
		{"dir-merge means trust the sender", []string{"- *.o", ":s .rsync-filter"}, false, []string{"x.o"}, false},
		{"receiver-only rule does not apply", []string{"-r *.o"}, false, []string{"x.o"}, false},
	}
	for _, tt := range tests {
		err := rejectExcluded(mk(tt.names...), tt.sent, 32, tt.cvs)
		if got := err != nil; got != tt.reject {
			t.Errorf("%s: err = %v, want reject %v", tt.name, err, tt.reject)
		}
		if err != nil && exitcode.Of(err) != 4 {
			t.Errorf("%s: exit %d, want 4", tt.name, exitcode.Of(err))
		}
	}
}
