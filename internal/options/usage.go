package options

// usageText lists the implemented options in the layout of rsync's --help:
// the option spellings padded to a 25-column field, then the description.
const usageText = `
Usage: rsync [OPTION]... SRC [SRC]... DEST
  or   rsync [OPTION]... SRC [SRC]... [USER@]HOST:DEST
  or   rsync [OPTION]... [USER@]HOST:SRC [DEST]
The ':' usages connect via remote shell.

Options
--verbose, -v            increase verbosity
--info=FLAGS             fine-grained informational verbosity
--debug=FLAGS            fine-grained debug verbosity
--stderr=e|a|c           change stderr output mode (default: errors)
--quiet, -q              suppress non-error messages
--checksum, -c           skip based on checksum, not mod-time & size
--archive, -a            archive mode is -rlptgoD (no -A,-X,-U,-N,-H)
--no-OPTION              turn off an implied OPTION (e.g. --no-D)
--recursive, -r          recurse into directories
--inc-recursive, --i-r   enable incremental recursion
--no-inc-recursive       disable incremental recursion
--no-i-r                 same as --no-inc-recursive
--relative, -R           use relative path names
--no-implied-dirs        don't send implied directories with --relative
--implied-dirs, --i-d    send implied directories with --relative (default)
--dirs, -d               transfer directories without recursing
--links, -l              copy symlinks as symlinks
--perms, -p              preserve permissions
--owner, -o              preserve owner (super-user only)
--group, -g              preserve group
--devices                preserve device files (super-user only)
--specials               preserve special files
-D                       same as --devices --specials
--times, -t              preserve modification times
--dry-run, -n            perform a trial run with no changes made
--one-file-system, -x    don't cross filesystem boundaries
--prune-empty-dirs, -m   prune empty directory chains from file-list
--whole-file, -W         copy files whole (w/o delta-xfer algorithm)
--no-whole-file, --no-W  use the delta-xfer algorithm
--checksum-choice=STR    choose the checksum algorithm (aka --cc)
--compress, -z           compress file data during the transfer
--compress-choice=STR    choose the compression algorithm (aka --zc)
--compress-level=NUM     explicitly set compression level (aka --zl)
--skip-compress=LIST     skip compressing files with suffix in LIST
--old-compress           use old-style compression (zlib)
--new-compress           use new-style compression (zlibx)
--rsh=COMMAND, -e        specify the remote shell to use
--rsync-path=PROGRAM     specify the rsync to run on remote machine
--cvs-exclude, -C        auto-ignore files in the same way CVS does
--filter=RULE, -f        add a file-filtering RULE
-F                       same as --filter='dir-merge /.rsync-filter'
                         repeated: --filter='- .rsync-filter'
--exclude=PATTERN        exclude files matching PATTERN
--exclude-from=FILE      read exclude patterns from FILE
--include=PATTERN        don't exclude files matching PATTERN
--include-from=FILE      read include patterns from FILE
--files-from=FILE        read list of source-file names from FILE
--from0, -0              all *-from/filter files are delimited by 0s
--old-args               disable the modern argument-protection idiom
--secluded-args, -s      use the protocol to safely send the arguments
                         (also --protect-args)
--blocking-io            use blocking I/O for the remote shell
--numeric-ids            don't map uid/gid values by user/group name
--timeout=SECONDS        set I/O timeout in seconds
--contimeout=SECONDS     set daemon connection timeout in seconds
--ignore-times, -I       don't skip files that match size and time
--size-only              skip files that match in size
--update, -u             skip files that are newer on the receiver
--modify-window=NUM, -@  set the accuracy for mod-time comparisons
--del                    an alias for --delete-during
--delete                 delete extraneous files from dest directories
--delete-before          receiver deletes before xfer, not during
--delete-during          receiver deletes during the transfer
--delete-delay           find deletions during, delete after
--delete-after           receiver deletes after transfer, not during
--delete-excluded        also delete excluded files from dest directories
--ignore-missing-args    ignore missing source arguments without error
--delete-missing-args    delete missing source arguments from destination
--ignore-errors          delete even if there are I/O errors
--force                  force deletion of directories even if not empty
--max-delete=NUM         don't delete more than NUM files
--existing               skip creating new files on receiver
                         (also --ignore-non-existing)
--ignore-existing        skip updating files that exist on receiver
--max-size=SIZE          don't transfer any file larger than SIZE
--min-size=SIZE          don't transfer any file smaller than SIZE
--max-alloc=SIZE         change a limit relating to memory alloc
--remove-source-files    sender removes synchronized files (non-directory)
--remove-sent-files      sender removes only the files it sent (deprecated)
--mkpath                 create destination's missing path components
--list-only              list the files instead of copying them
--bwlimit=RATE           limit socket I/O bandwidth
--stop-after=MINS        Stop rsync after MINS minutes have elapsed
                         (also --time-limit)
--stop-at=y-m-dTh:m      Stop rsync at the specified point in time
--outbuf=N|L|B           set out buffering to None, Line, or Block
--stats                  give some file-transfer stats
--8-bit-output, -8       leave high-bit chars unescaped in output
--human-readable, -h     output numbers in a human-readable format
--itemize-changes, -i    output a change-summary for all updates
--out-format=FORMAT      output updates using the specified FORMAT
--log-file=FILE          log what we're doing to the specified FILE
--log-file-format=FMT    log updates using the specified FMT
--write-batch=FILE       write a batched update to FILE
--only-write-batch=FILE  like --write-batch but w/o updating dest
--read-batch=FILE        read a batched update from FILE
--protocol=NUM           force an older protocol version to be used
--version, -V            print the version + other info and exit
--help, -h (*)           show this help (* -h is help only on its own)
`

// Usage returns the --help text that follows the version banner (which the
// caller prints): the usage lines and the options gorsync implements, in
// rsync's help layout.
func Usage() string { return usageText[1:] }
