package fsys

import (
	"os"
	"os/user"
	"slices"
	"strconv"
	"sync"
)

// idCache memoises one direction of a name/id lookup, misses included, since
// a transfer asks about the same few ids for every file.
type idCache[K comparable, V any] struct {
	m sync.Map // K -> idResult[V]
}

type idResult[V any] struct {
	v  V
	ok bool
}

func (c *idCache[K, V]) get(k K, lookup func(K) (V, bool)) (V, bool) {
	if r, hit := c.m.Load(k); hit {
		res := r.(idResult[V])
		return res.v, res.ok
	}
	v, ok := lookup(k)
	c.m.Store(k, idResult[V]{v, ok})
	return v, ok
}

var (
	userNames  idCache[uint32, string]
	groupNames idCache[uint32, string]
	userIDs    idCache[string, uint32]
	groupIDs   idCache[string, uint32]
)

// UserName returns the local name of uid, if it has one.
func UserName(uid uint32) (string, bool) {
	return userNames.get(uid, func(id uint32) (string, bool) {
		u, err := user.LookupId(strconv.FormatUint(uint64(id), 10))
		if err != nil {
			return "", false
		}
		return u.Username, true
	})
}

// GroupName returns the local name of gid, if it has one.
func GroupName(gid uint32) (string, bool) {
	return groupNames.get(gid, func(id uint32) (string, bool) {
		g, err := user.LookupGroupId(strconv.FormatUint(uint64(id), 10))
		if err != nil {
			return "", false
		}
		return g.Name, true
	})
}

// LookupUser returns the local uid of the user called name.
func LookupUser(name string) (uint32, bool) {
	return userIDs.get(name, func(n string) (uint32, bool) {
		if n == "" {
			return 0, false
		}
		u, err := user.Lookup(n)
		if err != nil {
			return 0, false
		}
		return parseID(u.Uid)
	})
}

// LookupGroup returns the local gid of the group called name.
func LookupGroup(name string) (uint32, bool) {
	return groupIDs.get(name, func(n string) (uint32, bool) {
		if n == "" {
			return 0, false
		}
		g, err := user.LookupGroup(n)
		if err != nil {
			return 0, false
		}
		return parseID(g.Gid)
	})
}

func parseID(s string) (uint32, bool) {
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err == nil
}

// MapUID returns the local uid for a sender's uid and user name: the local
// id of that name, or the sender's id when the name is empty or unknown here.
// Id 0 is never mapped. (rsync: uidlist.c recv_add_id, without --usermap.)
func MapUID(id uint32, name string) uint32 {
	if id == 0 || name == "" {
		return id
	}
	if local, ok := LookupUser(name); ok {
		return local
	}
	return id
}

// MapGID is MapUID for groups. (rsync: uidlist.c recv_add_id.)
func MapGID(id uint32, name string) uint32 {
	if id == 0 || name == "" {
		return id
	}
	if local, ok := LookupGroup(name); ok {
		return local
	}
	return id
}

// AmRoot reports whether the process runs as root and so may set any owner.
// The answer is read once: the generator asks for every file.
func AmRoot() bool { return amRoot() }

var amRoot = sync.OnceValue(func() bool { return os.Geteuid() == 0 })

// Euid and Egid return the process's effective ids, read once like AmRoot's:
// the receiver gives them to every file it creates.
func Euid() uint32 { return euid() }

// Egid returns the effective group id; see Euid.
func Egid() uint32 { return egid() }

var (
	euid = sync.OnceValue(func() uint32 { return uint32(os.Geteuid()) })
	egid = sync.OnceValue(func() uint32 { return uint32(os.Getegid()) })
)

// ourGroups is the process's group list plus its own gid, which some
// systems leave out of getgroups (rsync: uidlist.c is_in_group).
var ourGroups = sync.OnceValue(func() []int {
	gs, _ := os.Getgroups()
	for _, g := range []int{os.Getgid(), os.Getegid()} {
		if !slices.Contains(gs, g) {
			gs = append(gs, g)
		}
	}
	return gs
})

// CanSetGroup reports whether the process may give a file the group gid:
// root may set any group, anyone else only a group they belong to; rsync
// skips the chgrp otherwise (rsync: uidlist.c recv_add_id FLAG_SKIP_GROUP).
func CanSetGroup(gid uint32) bool {
	return AmRoot() || slices.Contains(ourGroups(), int(gid))
}
