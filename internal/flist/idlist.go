package flist

import (
	"fmt"
	"os/user"
	"strconv"
	"sync"

	"github.com/gorsync/gorsync/internal/wire"
)

// NameLookup resolves ids to names for the id lists; "" means the id has
// no name and is left out of the list.
type NameLookup interface {
	UserName(uid uint32) string
	GroupName(gid uint32) string
}

// SystemNames looks names up in the local user database (os/user), caching
// each answer.
type SystemNames struct {
	mu     sync.Mutex
	users  map[uint32]string
	groups map[uint32]string
}

// UserName returns the login name of uid, or "".
func (s *SystemNames) UserName(uid uint32) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.users[uid]; ok {
		return n
	}
	var name string
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		name = u.Username
	}
	if s.users == nil {
		s.users = make(map[uint32]string)
	}
	s.users[uid] = name
	return name
}

// GroupName returns the name of group gid, or "".
func (s *SystemNames) GroupName(gid uint32) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.groups[gid]; ok {
		return n
	}
	var name string
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		name = g.Name
	}
	if s.groups == nil {
		s.groups = make(map[uint32]string)
	}
	s.groups[gid] = name
	return name
}

// idEntry is one id the sender has seen, with its name.
type idEntry struct {
	id   uint32
	name string
}

// idList records the ids a sender has put in the list, in first-seen
// order, like rsync's uidlist/gidlist. rsync: uidlist.c add_uid
type idList struct {
	seen  map[uint32]struct{}
	order []idEntry
}

// add records id and returns its name and whether it was new.
func (l *idList) add(id uint32, lookup func(uint32) string) (string, bool) {
	if _, ok := l.seen[id]; ok {
		return "", false
	}
	if l.seen == nil {
		l.seen = make(map[uint32]struct{})
	}
	l.seen[id] = struct{}{}
	name := lookup(id)
	l.order = append(l.order, idEntry{id, name})
	return name, true
}

// writeIDList writes one id list. rsync keeps its list newest-first, so
// ids go out in reverse order of first appearance; id 0 and nameless ids
// are left out, and the list ends with 0 or, with CF_ID0_NAMES, with id 0
// and its name. rsync: uidlist.c send_one_list
func writeIDList(w *wire.Writer, o *Options, l *idList, name0 string) {
	for i := len(l.order) - 1; i >= 0; i-- {
		e := l.order[i]
		if e.id != 0 && e.name != "" {
			writeIDName(w, o, e.id, e.name)
		}
	}
	if o.ID0Names() {
		writeIDName(w, o, 0, name0)
	} else {
		writeVarint30(w, o, 0)
	}
}

func writeIDName(w *wire.Writer, o *Options, id uint32, name string) {
	if len(name) > 255 {
		name = name[:255]
	}
	writeVarint30(w, o, int32(id))
	w.WriteByte(byte(len(name)))
	w.Write([]byte(name))
}

// readIDList reads one id list into names. rsync: uidlist.c recv_id_list
func readIDList(r *wire.Reader, o *Options, names map[uint32]string, what string) error {
	for n := 0; ; n++ {
		if n >= maxIDListEntries {
			return fmt.Errorf("%s id list longer than %d entries: %w", what, maxIDListEntries, wire.ErrProtocol)
		}
		id, err := readVarint30(r, o)
		if err != nil {
			return fmt.Errorf("read %s id list: %w", what, err)
		}
		if id == 0 {
			break
		}
		if err := readIDName(r, names, uint32(id)); err != nil {
			return fmt.Errorf("read %s id list: %w", what, err)
		}
	}
	if o.ID0Names() {
		if err := readIDName(r, names, 0); err != nil {
			return fmt.Errorf("read %s id 0 name: %w", what, err)
		}
	}
	return nil
}

// readIDName reads a byte-counted name for id; an empty name records no
// mapping. rsync: uidlist.c recv_user_name
func readIDName(r *wire.Reader, names map[uint32]string, id uint32) error {
	n, err := r.ReadByte()
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	var buf [255]byte
	if err := r.ReadFull(buf[:n]); err != nil {
		return err
	}
	if _, ok := names[id]; !ok && len(names) >= maxIDListEntries {
		return fmt.Errorf("more than %d id names: %w", maxIDListEntries, wire.ErrProtocol)
	}
	names[id] = string(buf[:n])
	return nil
}

func writeVarint30(w *wire.Writer, o *Options, v int32) {
	if o.Protocol < 30 {
		w.WriteInt(v)
	} else {
		w.WriteVarint(v)
	}
}

func readVarint30(r *wire.Reader, o *Options) (int32, error) {
	if o.Protocol < 30 {
		return r.ReadInt()
	}
	return r.ReadVarint()
}

func writeVarlong30(w *wire.Writer, o *Options, v int64, min int) {
	if o.Protocol < 30 {
		w.WriteLongint(v)
	} else {
		w.WriteVarlong(v, min)
	}
}

func readVarlong30(r *wire.Reader, o *Options, min int) (int64, error) {
	if o.Protocol < 30 {
		return r.ReadLongint()
	}
	return r.ReadVarlong(min)
}
