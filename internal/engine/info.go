package engine

// InfoLevels are the levels of the --info flags the roles print by.
// rsync: options.c info_words
type InfoLevels struct {
	Name   int // 1: names of updated entries; 2: unchanged ones too
	Del    int // "deleting" lines
	Skip   int // entries the selection options skip (--max-size, -u, ...)
	Remove int // "sender removed" (--remove-source-files)
	Nonreg int // "skipping non-regular file"
	Misc   int // miscellaneous notes
	Flist  int // the client's file-list lines ("sending incremental file list")
}

// LogDeletions says whether a client prints its deletions: with
// --info=del, or with any out-format (which --info=name, -v, implies),
// unless -q. rsync: log.c log_delete
func (o *Options) LogDeletions() bool {
	return (o.Info.Del > 0 || o.Out.On) && !o.Quiet
}
