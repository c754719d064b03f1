package flist

import "testing"

func TestMapIDs(t *testing.T) {
	users := map[string]uint32{"alice": 501, "root": 0}
	groups := map[string]uint32{"staff": 20}
	mapper := func(root, numeric bool) IDMapper {
		return IDMapper{
			Root: root, NumericIDs: numeric,
			UserID:  func(n string) (uint32, bool) { id, ok := users[n]; return id, ok },
			GroupID: func(n string) (uint32, bool) { id, ok := groups[n]; return id, ok },
			InGroup: func(g uint32) bool { return g == 20 },
		}
	}
	tests := []struct {
		name          string
		m             IDMapper
		uid, gid      uint32
		wantUID       uint32
		wantGID       uint32
		wantSkipGroup bool
	}{
		{"root maps named ids", mapper(true, false), 1000, 1001, 501, 20, false},
		{"unnamed ids stay", mapper(true, false), 7, 8, 7, 8, false},
		{"unknown local name stays", mapper(true, false), 1002, 1003, 1002, 1003, false},
		{"numeric ids as root", mapper(true, true), 1000, 1001, 1000, 1001, false},
		{"non-root keeps uid, maps gid", mapper(false, false), 1000, 1001, 1000, 20, false},
		{"non-root outside group", mapper(false, false), 1000, 8, 1000, 8, true},
		{"non-root numeric still checks group", mapper(false, true), 1000, 1001, 1000, 1001, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &List{
				Entries: []*Entry{{Base: "f", Mode: ModeRegular, UID: tt.uid, GID: tt.gid}},
				Users:   map[uint32]string{1000: "alice", 1002: "nobody-here"},
				Groups:  map[uint32]string{1001: "staff", 1003: "nogroup-here"},
			}
			l.MapIDs(tt.m)
			e := l.Entries[0]
			if e.UID != tt.wantUID || e.GID != tt.wantGID || (e.Flags&FlagSkipGroup != 0) != tt.wantSkipGroup {
				t.Errorf("uid %d gid %d skip %v; want %d %d %v", e.UID, e.GID, e.Flags&FlagSkipGroup != 0, tt.wantUID, tt.wantGID, tt.wantSkipGroup)
			}
		})
	}
}
