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
