package fastio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestMapReadsFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	data := bytes.Repeat([]byte("gorsync "), 10000)
	os.WriteFile(p, data, 0o644)
	f, _ := os.Open(p)
	defer f.Close()
	m, err := Map(f, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !bytes.Equal(m.Data, data) {
		t.Error("mapped bytes differ from the file")
	}
}

// TestGuardTruncatedWhileMapped truncates a mapped file and reads past the
// new end: the fault must come back as ErrFault, not kill the process.
func TestGuardTruncatedWhileMapped(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, make([]byte, 1<<20), 0o644)
	f, _ := os.Open(p)
	defer f.Close()
	m, err := Map(f, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := os.Truncate(p, 4096); err != nil {
		t.Fatal(err)
	}
	var sum byte
	err = Guard(func() error {
		for i := 0; i < len(m.Data); i += 4096 {
			sum += m.Data[i]
		}
		return nil
	})
	if !errors.Is(err, ErrFault) {
		t.Fatalf("Guard = %v, want ErrFault", err)
	}
}
