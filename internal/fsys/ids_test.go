package fsys

import (
	"os"
	"sync"
	"testing"
)

func TestRootNames(t *testing.T) {
	if n, ok := UserName(0); !ok || n != "root" {
		t.Errorf("UserName(0) = %q, %v", n, ok)
	}
	if n, ok := GroupName(0); !ok || n != "root" {
		t.Errorf("GroupName(0) = %q, %v", n, ok)
	}
	if id, ok := LookupUser("root"); !ok || id != 0 {
		t.Errorf("LookupUser(root) = %d, %v", id, ok)
	}
	if id, ok := LookupGroup("root"); !ok || id != 0 {
		t.Errorf("LookupGroup(root) = %d, %v", id, ok)
	}
	for _, name := range []string{"", "no-such-user-gorsync"} {
		if _, ok := LookupUser(name); ok {
			t.Errorf("LookupUser(%q) found a user", name)
		}
		if _, ok := LookupGroup(name); ok {
			t.Errorf("LookupGroup(%q) found a group", name)
		}
	}
	if _, ok := UserName(4_000_000_123); ok {
		t.Error("UserName of an unused uid found a name")
	}
}

func TestMapIDs(t *testing.T) {
	tests := []struct {
		id   uint32
		name string
		want uint32
	}{
		{0, "", 0},
		{0, "no-such-user-gorsync", 0}, // id 0 is never mapped
		{1234, "", 1234},
		{1234, "no-such-user-gorsync", 1234}, // unknown names keep the id
		{1234, "root", 0},                    // known names map to the local id
	}
	for _, tt := range tests {
		if got := MapUID(tt.id, tt.name); got != tt.want {
			t.Errorf("MapUID(%d, %q) = %d, want %d", tt.id, tt.name, got, tt.want)
		}
		if got := MapGID(tt.id, tt.name); got != tt.want {
			t.Errorf("MapGID(%d, %q) = %d, want %d", tt.id, tt.name, got, tt.want)
		}
	}
}

func TestCanSetGroup(t *testing.T) {
	if !CanSetGroup(uint32(os.Getegid())) {
		t.Error("CanSetGroup of our own gid is false")
	}
	if AmRoot() != (os.Geteuid() == 0) {
		t.Error("AmRoot disagrees with Geteuid")
	}
	if !AmRoot() && CanSetGroup(4_000_000_123) {
		t.Error("non-root may set a group it is not in")
	}
}

func TestLookupConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if n, ok := UserName(0); !ok || n != "root" {
					t.Error("concurrent UserName(0) failed")
					return
				}
			}
		})
	}
	wg.Wait()
}
