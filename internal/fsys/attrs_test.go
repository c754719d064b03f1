package fsys

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSetFileAttrsOwnerOnlyWhereItDiffers checks that SetFileAttrs leaves
// the owner and the group alone where the file already has them, as rsync
// does: a chown, even to the same ids, would clear a set-user-id bit. As
// root it also changes only the id that differs.
func TestSetFileAttrsOwnerOnlyWhereItDiffers(t *testing.T) {
	r := newFixture(t).r
	f, tmp, err := r.CreateTemp("target")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer r.Remove(tmp)
	if err := SetFileAttrs(f, Attrs{Set: SetMode, Mode: 0o4755}); err != nil {
		t.Fatal(err)
	}
	uid, gid := Euid(), Egid()
	if err := SetFileAttrs(f, Attrs{Set: SetUID | SetGID, UID: uid, GID: gid}); err != nil {
		t.Fatal(err)
	}
	st, err := StatFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if st.Perm() != 0o4755 || st.UID != uid || st.GID != gid {
		t.Errorf("same owner: perm %o owner %d:%d; want 4755 %d:%d", st.Perm(), st.UID, st.GID, uid, gid)
	}
	// The same mode as well: nothing to do. Then another one.
	for _, mode := range []uint32{0o4755, 0o640} {
		if err := SetFileAttrs(f, Attrs{Set: SetUID | SetGID | SetMode, UID: uid, GID: gid, Mode: mode}); err != nil {
			t.Fatal(err)
		}
		if st, err = StatFile(f); err != nil || st.Perm() != mode {
			t.Errorf("mode %o: got %o, %v", mode, st.Perm(), err)
		}
	}
	if !AmRoot() {
		return
	}
	if err := SetFileAttrs(f, Attrs{Set: SetUID | SetGID, UID: uid, GID: 4322}); err != nil {
		t.Fatal(err)
	}
	if st, err = StatFile(f); err != nil {
		t.Fatal(err)
	}
	if st.UID != uid || st.GID != 4322 {
		t.Errorf("new group: owner %d:%d; want %d:4322", st.UID, st.GID, uid)
	}
}

// TestFutimensFallback sets times through the descriptor and through its
// /proc name (the fallback), to the nanosecond, leaving the access time
// when it is omitted.
func TestFutimensFallback(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "times")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	var before unix.Stat_t
	if err := unix.Fstat(fd, &before); err != nil {
		t.Fatal(err)
	}
	for i, set := range []func(ts *[2]unix.Timespec) error{
		func(ts *[2]unix.Timespec) error { return futimens(fd, ts) },
		func(ts *[2]unix.Timespec) error { return unix.UtimesNanoAt(unix.AT_FDCWD, procFD(fd), ts[:], 0) },
	} {
		mt := time.Unix(1_500_000_000+int64(i), 123456789)
		if err := set(&[2]unix.Timespec{omitTime, timespec(mt)}); err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		if got := time.Unix(st.Mtim.Unix()); !got.Equal(mt) || st.Atim != before.Atim {
			t.Errorf("way %d: mtime %v atime %v; want %v and the atime unchanged (%v)", i, got, st.Atim, mt, before.Atim)
		}
	}
}
