package fsys

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// wideMajor and wideMinor are device numbers with bits above the old 8-bit
// fields (the kernel keeps 12 bits of major, 20 of minor).
const wideMajor, wideMinor = 0xabc, 0x12345

// statFixture makes a file with nanosecond times, a directory, a symlink
// to the file and, as root, a device node with wide numbers, and returns
// the root and the names.
func statFixture(t *testing.T) (*fixture, []string) {
	t.Helper()
	fx := newFixture(t)
	if err := os.WriteFile(filepath.Join(fx.dir, "file"), []byte("data"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := fx.r.SetTimes("file", time.Unix(1_600_000_000, 987_654_321), time.Unix(1_234_567_890, 123_456_789)); err != nil {
		t.Fatal(err)
	}
	if err := fx.r.Symlink("file", "flink"); err != nil {
		t.Fatal(err)
	}
	names := []string{"file", "sub", "flink"}
	if AmRoot() {
		if err := fx.r.Mknod("chr", unix.S_IFCHR|0o600, unix.Mkdev(wideMajor, wideMinor)); err != nil {
			t.Fatal(err)
		}
		names = append(names, "chr")
	}
	return fx, names
}

// TestStatFromStatx checks that statx's result converts to what stat(2)'s
// does, device numbers included, so the walk's batched and plain stats
// describe an entry alike.
func TestStatFromStatx(t *testing.T) {
	fx, names := statFixture(t)
	for _, name := range append(names, "lnk") {
		path := filepath.Join(fx.dir, name)
		var st unix.Stat_t
		var sx unix.Statx_t
		if err := unix.Lstat(path, &st); err != nil {
			t.Fatal(err)
		}
		if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &sx); err != nil {
			t.Fatal(err)
		}
		if a, b := StatFromUnix(&st), StatFromStatx(&sx); a != b {
			t.Errorf("%s: stat(2) gives %+v, statx %+v", name, a, b)
		}
	}
}

// TestStatTFallback checks that StatT describes an entry the same way with
// openat2 and through os.Root's syscall.Stat_t, and as the plain stat(2)
// of its path does.
func TestStatTFallback(t *testing.T) {
	fx, names := statFixture(t)
	defer noOpenat2.Store(false)
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(fx.dir, name), &st); err != nil {
			t.Fatal(err)
		}
		want := StatFromUnix(&st)
		for _, fallback := range []bool{false, true} {
			noOpenat2.Store(fallback)
			got, err := fx.r.StatT(name)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s (os.Root fallback %v): %+v, want %+v", name, fallback, got, want)
			}
		}
	}
	if !AmRoot() {
		return
	}
	st, err := fx.r.LstatT("chr")
	if err != nil {
		t.Fatal(err)
	}
	if major, minor := st.MajorMinor(); major != wideMajor || minor != wideMinor {
		t.Errorf("device numbers %#x, %#x; want %#x, %#x", major, minor, wideMajor, wideMinor)
	}
}
