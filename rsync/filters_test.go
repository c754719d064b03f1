package rsync

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"testing"

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
	err = RunServer(o, &in, io.Discard, Env{Stderr: &stderr})
	if code := exitCode(err); code != 12 {
		t.Fatalf("exit code %d (%v), want 12", code, err)
	}
	if !bytes.Contains(stderr.Bytes(), []byte("Unknown filter rule: x bogus")) && !bytes.Contains([]byte(err.Error()), []byte("Unknown filter rule: x bogus")) {
		t.Errorf("message missing: %v\n%s", err, stderr.String())
	}
}
