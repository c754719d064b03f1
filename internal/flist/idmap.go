package flist

import (
	"os"
	"os/user"
	"strconv"
)

// IDMapper says how a receiver turns the sender's uids and gids into its
// own, the way rsync's recv_id_list and match_uid/match_gid do.
type IDMapper struct {
	// Root is whether we run as root; only root changes owners, and root
	// may set any group.
	Root bool
	// NumericIDs is --numeric-ids: ids are kept as sent.
	NumericIDs bool
	// UserID and GroupID resolve a local name; nil means os/user.
	UserID, GroupID func(name string) (uint32, bool)
	// InGroup reports whether we belong to gid; nil means os.Getgroups.
	InGroup func(gid uint32) bool
}

// MapIDs rewrites the list's UID and GID fields from the sender's ids to
// ours: an id whose name the sender sent and that names a local user or
// group maps to the local id; others (and id 0 unless named by
// CF_ID0_NAMES) stay. Groups we may not set get FlagSkipGroup.
// rsync: uidlist.c recv_id_list, recv_add_id
func (l *List) MapIDs(m IDMapper) {
	if m.UserID == nil {
		m.UserID = lookupUserID
	}
	if m.GroupID == nil {
		m.GroupID = lookupGroupID
	}
	if m.InGroup == nil {
		m.InGroup = inGroup()
	}
	mapUID := m.Root && !m.NumericIDs
	mapGID := !m.Root || !m.NumericIDs
	uids := make(map[uint32]uint32)
	type gmap struct {
		id   uint32
		skip bool
	}
	gids := make(map[uint32]gmap)
	for _, e := range l.Entries {
		if mapUID {
			to, ok := uids[e.UID]
			if !ok {
				to = e.UID
				if name := l.Users[e.UID]; name != "" && e.UID != 0 && !m.NumericIDs {
					if id, ok := m.UserID(name); ok {
						to = id
					}
				}
				uids[e.UID] = to
			}
			e.UID = to
		}
		if mapGID {
			g, ok := gids[e.GID]
			if !ok {
				g.id = e.GID
				if name := l.Groups[e.GID]; name != "" && e.GID != 0 && !m.NumericIDs {
					if id, ok := m.GroupID(name); ok {
						g.id = id
					}
				}
				g.skip = !m.Root && !m.InGroup(g.id)
				gids[e.GID] = g
			}
			e.GID = g.id
			if g.skip {
				e.Flags |= FlagSkipGroup
			}
		}
	}
}

func lookupUserID(name string) (uint32, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, false
	}
	id, err := strconv.ParseUint(u.Uid, 10, 32)
	return uint32(id), err == nil
}

func lookupGroupID(name string) (uint32, bool) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, false
	}
	id, err := strconv.ParseUint(g.Gid, 10, 32)
	return uint32(id), err == nil
}

// inGroup returns a membership test over our effective and supplementary
// groups. rsync: uidlist.c is_in_group
func inGroup() func(uint32) bool {
	mine := map[uint32]bool{uint32(os.Getegid()): true}
	if gs, err := os.Getgroups(); err == nil {
		for _, g := range gs {
			mine[uint32(g)] = true
		}
	}
	return func(gid uint32) bool { return mine[gid] }
}
