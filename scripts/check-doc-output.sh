#!/usr/bin/env bash
# Checks that the output pasted in the tutorials is what the programs print:
# runs every marked block again, inside scripts/sandbox.sh, and compares.
#
#   scripts/check-doc-output.sh                 check; exit 1 and name each block that drifted
#   scripts/check-doc-output.sh --update        rewrite the blocks that drifted, in both languages
#   scripts/check-doc-output.sh --update-all    rewrite every block from this run
#   scripts/check-doc-output.sh [...] PAGE...   only these pages (lab01-uts.md, docs/en/lab01-uts.md, ...)
#
# Needs root (the sandbox) and a build: NSLAB_BUILD_DIR (default build/) with
# bin/solutions/ and bin/nsinfo in it. Prints one line when all is well.
#
# The markup, in docs/LANG/*.md (docs/README.md shows it in use):
#
#   <!-- run -->        on the line right before a fenced block: the block is a
#   ```                 transcript of a root shell at the top of the source tree.
#   # COMMAND           Lines starting with "# " are commands, lines starting
#   > CONTINUED         with "> " continue the command above (a shell's second
#   OUTPUT              prompt); every other line is what they printed, stdout
#   ```                 and stderr together, as a terminal shows them.
#
#   <!-- sample -->     output that no script can reproduce (Ctrl-C at a terminal,
#                       a second terminal): not run. The text calls it "something
#                       like" and keeps it short.
#
# Doxygen drops both comments from the pages. Any other block that shows a
# command with its output, or a line of --verbose narration, is an error: mark
# it, or show the command alone.
#
# How the blocks run. The run blocks of one page run in page order, in one bash,
# in one sandbox (new UTS, IPC, mount, PID and network namespaces): variables
# and the working directory carry over, as at a reader's terminal. At the end of
# each block the shell waits for the jobs it started in the background, so a
# block ends what it starts; such a job should print nothing but narration, as
# its output lands under whichever command runs when it is written. In the
# sandbox the hostname is "vm", /proc is the sandbox's own, /tmp is an empty
# tmpfs, the working directory is a read-only view of the source tree whose
# build/ is NSLAB_BUILD_DIR, stdin is /dev/null, and PIDs start at 4000, so
# that they look like a host's, not like a new PID namespace's. Nothing a block
# does outlives the sandbox.
#
# How they compare. Both sides are normalised first: inode numbers such as
# 4026531838 and any other number of four digits or more (PIDs, sizes), hex
# numbers, times, dates and mktemp names become placeholders, and runs of blanks
# one blank. Numbers below 1000 stay, so PID 1 and exit status 137 are checked.
# Then each command's own output must match line by line, in order; narration
# lines ("[03-pid parent] ...") must match as a set for the whole block, since
# the runtime, the container and COMMAND write at the same time and their lines
# interleave differently from run to run.
#
# Languages. Commands and output are the same in every language: the Chinese
# page must hold the same marked blocks as the English one, in the same order,
# with the same text. The English page is run, both are compared, --update
# writes the fresh output into both.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

mode=check
pages=()
for arg in "$@"; do
  case "$arg" in
    --update) mode=update ;;
    --update-all) mode=update-all ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check-doc-output: unknown option $arg (see --help)" >&2; exit 2 ;;
    *) pages+=("$(basename "$arg")") ;;
  esac
done

fail() { echo "check-doc-output: $*" >&2; exit 1; }

build=${NSLAB_BUILD_DIR:-build}
case "$build" in /*) ;; *) build=$top/$build ;; esac
[ -x "$build/bin/nsinfo" ] && [ -d "$build/bin/solutions" ] ||
  fail "no build in $build (bin/nsinfo, bin/solutions/): build first (cmake --preset default && cmake --build --preset default), or set NSLAB_BUILD_DIR"
build=$(cd "$build" && pwd -P)
[ "$(id -u)" = 0 ] ||
  fail "needs root: the blocks run in scripts/sandbox.sh, which creates namespaces; run it as root (sudo)"
command -v perl >/dev/null || fail "needs perl (Debian: perl-base)"

work=$(mktemp -d /tmp/nslab-doc-output.XXXXXX)
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------------------
# The parser, the comparison and the rewriting, in Perl.
cat >"$work/doc-output.pl" <<'PERL'
use strict;
use warnings;
use utf8;
binmode STDOUT, ':encoding(UTF-8)';
binmode STDERR, ':encoding(UTF-8)';

# A line of --verbose narration: "[NN-name side] ...".
my $NARRATION = qr/^\[\d\d-[\w-]+ [\w-]+\]/;
my $MARK = "\x1enslab-doc-output";

sub slurp {
  my ($file) = @_;
  open my $fh, '<:encoding(UTF-8)', $file or die "check-doc-output: $file: $!\n";
  local $/; my $text = <$fh>; close $fh;
  return $text;
}

# The fenced blocks of a page: [{marker, open, close, indent, lines}], line
# numbers 0-based. A marker is the line right before the opening fence.
sub blocks {
  my ($file) = @_;
  my @lines = split /\n/, slurp($file), -1;
  my @blocks;
  for (my $i = 0; $i < @lines; $i++) {
    next unless $lines[$i] =~ /^(\s*)(```+|~~~+)/;
    my ($indent, $fence) = ($1, $2);
    my $j = $i + 1;
    $j++ while $j < @lines && $lines[$j] !~ /^\s*\Q$fence\E\s*$/;
    die "check-doc-output: $file:" . ($i + 1) . ": a fenced block is never closed\n" if $j >= @lines;
    my $marker = '';
    $marker = $1 if $i > 0 && $lines[$i - 1] =~ /^\s*<!--\s*(\w[\w-]*)\s*-->\s*$/;
    my @content = map { my $l = $_; $l =~ s/^\Q$indent\E//; $l } @lines[$i + 1 .. $j - 1];
    push @blocks, { marker => $marker, open => $i, close => $j, indent => $indent, lines => \@content };
    $i = $j;
  }
  for (my $i = 0; $i < @lines; $i++) {
    next unless $lines[$i] =~ /^\s*<!--\s*(run|sample)\s*-->\s*$/;
    die "check-doc-output: $file:" . ($i + 1) . ": <!-- $1 --> must be on the line right before a fenced block\n"
      unless grep { $_->{open} == $i + 1 } @blocks;
  }
  return (\@lines, \@blocks);
}

# A run block as commands: [{text, prompt => [lines], out => [lines]}].
sub transcript {
  my ($file, $block) = @_;
  my @commands;
  my $n = $block->{open} + 1;
  for my $line (@{ $block->{lines} }) {
    $n++;
    if ($line =~ /^# (.*)$/) {
      push @commands, { text => $1, prompt => [$line], out => [] };
    } elsif ($line =~ /^>(?: (.*))?$/ && @commands && !@{ $commands[-1]{out} }) {
      $commands[-1]{text} .= "\n" . ($1 // '');
      push @{ $commands[-1]{prompt} }, $line;
    } else {
      die "check-doc-output: $file:$n: a run block starts with a command (\"# ...\")\n" unless @commands;
      push @{ $commands[-1]{out} }, $line;
    }
  }
  die "check-doc-output: $file:" . ($block->{open} + 1) . ": an empty run block\n" unless @commands;
  return \@commands;
}

sub normalise {
  my ($line) = @_;
  $line =~ s/\x1e.*//;
  $line =~ s/tmp\.[A-Za-z0-9]{6,}/tmp.XXXXXX/g;                     # mktemp names
  $line =~ s/\b\d+m\d+[.,]\d+s\b/<time>/g;                            # time(1)
  $line =~ s/\b\d{1,2}:\d\d(?::\d\d)?(?:[.,]\d+)?\b/<clock>/g;       # 06:41, 00:00:00
  $line =~ s/\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{1,2}\b/<date>/g;
  $line =~ s/\b\d{4}-\d\d-\d\d\b/<date>/g;
  $line =~ s/\b0x[0-9a-fA-F]+\b/<hex>/g;                             # IPC keys
  $line =~ s/(?<![\d.])\d{4,}(?![\d.])/<n>/g;                        # PIDs, inodes, sizes
  $line =~ s/<date>\s+(?:<clock>|<n>)/<date>/g;                      # ls -l: "Dec  1 11:23", "May 20  2026"
  $line =~ s/[ \t]+/ /g;
  $line =~ s/ $//;
  return $line;
}

# What the pages of one language hold: the marked blocks, for the parity check.
sub marked { my ($blocks) = @_; return grep { $_->{marker} =~ /^(run|sample)$/ } @$blocks; }

# Blocks that look like pasted output but carry no marker.
sub unmarked_output {
  my ($file, $blocks) = @_;
  my @found;
  for my $b (@$blocks) {
    next if $b->{marker} =~ /^(run|sample)$/;
    my @l = @{ $b->{lines} };
    my ($prompted, $why) = (0, '');
    for my $line (@l) {
      if ($line =~ $NARRATION) { $why = "a line of --verbose narration"; last; }
      if ($line =~ /^[#\$] \S/) { $prompted = 1; next; }
      if ($prompted && $line =~ /\S/ && $line !~ /^> /) { $why = "a command with its output"; last; }
    }
    push @found, "$file:" . ($b->{open} + 1) . ": an unmarked block shows $why: mark it <!-- run --> (checked) or <!-- sample --> (not checked), or show the command alone" if $why;
  }
  return @found;
}

# session.sh for one page: its commands, with a mark before each, and a wait
# plus a mark after each block.
sub write_session {
  my ($file, $out) = @_;
  my (undef, $blocks) = blocks($file);
  open my $fh, '>:encoding(UTF-8)', $out or die "$out: $!";
  my $b = 0;
  for my $block (grep { $_->{marker} eq 'run' } @$blocks) {
    $b++;
    my $c = 0;
    for my $cmd (@{ transcript($file, $block) }) {
      $c++;
      print $fh "printf '\\036nslab-doc-output %d %d\\n' $b $c\n$cmd->{text}\n";
    }
    print $fh "wait\nprintf '\\036nslab-doc-output %d end\\n' $b\n";
  }
  close $fh;
  return $b;
}

# The output of a session: {block}{command} => [lines], {block}{end} => 1.
sub read_session {
  my ($file) = @_;
  my %got;
  my ($b, $c) = (0, 0);
  my $text = slurp($file);
  $text =~ s/\n\z//;
  for my $line (split /\n/, $text, -1) {
    # A mark may follow output that did not end its line.
    my @parts = split /\x1e/, $line, -1;
    my $first = @parts ? shift @parts : '';   # split gives nothing for an empty line
    push @{ $got{$b}{$c} }, $first if $b && $c && ($first ne '' || !@parts);
    for my $part (@parts) {
      next unless $part =~ /^nslab-doc-output (\d+) (\d+|end)$/;
      ($b, $c) = ($1, $2);
      if ($c eq 'end') { $got{$b}{end} = 1; $c = 0; } else { $got{$b}{$c} = []; }
    }
  }
  return \%got;
}

# First difference between a block and the commands' fresh output, or ''.
sub difference {
  my ($commands, $fresh) = @_;
  my (@want_narration, @got_narration);
  for my $i (0 .. $#$commands) {
    my $cmd = $commands->[$i];
    my $got = $fresh->{ $i + 1 };
    return "the session ended before \"$cmd->{prompt}[0]\" (a command ended the shell, or it timed out)" unless $got;
    my @want = grep { $_ !~ $NARRATION } @{ $cmd->{out} };
    my @have = grep { $_ !~ $NARRATION } @$got;
    push @want_narration, grep { $_ =~ $NARRATION } @{ $cmd->{out} };
    push @got_narration, grep { $_ =~ $NARRATION } @$got;
    my $n = @want > @have ? @want : @have;
    for my $k (0 .. $n - 1) {
      my ($w, $h) = map { defined $_ ? normalise($_) : undef } ($want[$k], $have[$k]);
      next if defined $w && defined $h && $w eq $h;
      return "after \"$cmd->{prompt}[0]\", line " . ($k + 1) . " of its output:\n"
        . "    the page shows: " . (defined $want[$k] ? $want[$k] : "(nothing more)") . "\n"
        . "    the run prints: " . (defined $have[$k] ? $have[$k] : "(nothing more)");
    }
  }
  my (%count);
  $count{ normalise($_) }++ for @want_narration;
  $count{ normalise($_) }-- for @got_narration;
  for my $line (@got_narration) {
    return "the run narrates a line the page does not show:\n    $line" if $count{ normalise($line) } < 0;
  }
  for my $line (@want_narration) {
    return "the page shows a line of narration the run does not print:\n    $line" if $count{ normalise($line) } > 0;
  }
  return '';
}

sub fresh_lines {
  my ($commands, $fresh) = @_;
  my @lines;
  for my $i (0 .. $#$commands) {
    push @lines, @{ $commands->[$i]{prompt} };
    for my $line (@{ $fresh->{ $i + 1 } || [] }) {
      die "check-doc-output: a command printed a line that reads like a prompt (\"$line\"); change the command\n"
        if $line =~ /^(# |> |>$)/;
      push @lines, $line;
    }
  }
  s/[ \t]+$// for @lines;
  return \@lines;
}

sub write_page {
  my ($file, $lines) = @_;
  open my $fh, '>:encoding(UTF-8)', $file or die "$file: $!";
  print $fh join("\n", @$lines);
  close $fh;
}

# check|update|update-all EN ZH SESSION_OUT: compare, report, rewrite.
sub compare {
  my ($mode, $en, $zh, $out) = @_;
  my $fresh = read_session($out);
  my ($en_lines, $en_blocks) = blocks($en);
  my ($zh_lines, $zh_blocks) = -e $zh ? blocks($zh) : ([], []);
  my @en_run = grep { $_->{marker} eq 'run' } @$en_blocks;
  my @zh_run = grep { $_->{marker} eq 'run' } @$zh_blocks;
  my @problems;
  my $parity = -e $zh && @en_run == @zh_run;
  push @problems, "$zh: " . (-e $zh ? "has " . @zh_run . " run blocks, $en has " . @en_run : "missing")
    . ": the same blocks, in the same order, belong in both (scripts/check-docs.sh)" unless $parity;
  my ($drifted, $rewritten) = (0, 0);
  for my $i (0 .. $#en_run) {
    my $block = $en_run[$i];
    my $commands = transcript($en, $block);
    my $got = $fresh->{ $i + 1 } || {};
    my $diff = difference($commands, $got);
    $diff = "the block did not finish (a command ended the shell, or the session timed out)"
      . ($diff ? "; $diff" : "") unless $got->{end};
    my $new;
    if ($diff) {
      $drifted++;
      push @problems, "$en:" . ($block->{open} + 1) . ": drifted: $diff";
    }
    if ($got->{end} && ($mode eq 'update-all' || ($mode eq 'update' && $diff))) {
      $new = fresh_lines($commands, $got);
    } else {
      $new = [ @{ $block->{lines} } ];
    }
    $block->{new} = $new;
    if ($parity) {
      my $twin = $zh_run[$i];
      my @t = @{ $twin->{lines} };
      my @e = @{ $block->{lines} };
      s/[ \t]+$// for @t, @e;
      if (join("\n", @t) ne join("\n", @e)) {
        push @problems, "$zh:" . ($twin->{open} + 1) . ": differs from its twin at $en:" . ($block->{open} + 1)
          . " (run blocks are the same in every language)";
      }
      $twin->{new} = $new;
    }
  }
  if ($mode ne 'check') {
    for my $pair ([$en, $en_lines, \@en_run], ($parity ? ([$zh, $zh_lines, \@zh_run]) : ())) {
      my ($file, $lines, $run) = @$pair;
      my @out = @$lines;
      my $changed = 0;
      for my $block (reverse @$run) {
        my @old = @{ $block->{lines} };
        next if join("\n", @old) eq join("\n", @{ $block->{new} });
        splice @out, $block->{open} + 1, $block->{close} - $block->{open} - 1,
          map { $_ eq '' ? '' : $block->{indent} . $_ } @{ $block->{new} };
        $changed++;
      }
      if ($changed) { write_page($file, \@out); $rewritten += $changed; print STDERR "check-doc-output: $file: rewrote $changed block(s)\n"; }
    }
    # Rewritten, so no longer a problem; a block that did not finish is kept,
    # and stays one.
    @problems = grep { (!/: drifted: / || /did not finish|session ended/) && !/differs from its twin/ } @problems;
  }
  print STDERR "check-doc-output: $_\n" for @problems;
  printf "%d %d %d\n", scalar(@en_run), $drifted, scalar(@problems);
}

my $cmd = shift @ARGV;
if ($cmd eq 'session') {
  print write_session(@ARGV), "\n";
} elsif ($cmd eq 'lint') {
  my @found;
  for my $file (@ARGV) { my (undef, $blocks) = blocks($file); push @found, unmarked_output($file, $blocks); }
  print "$_\n" for @found;
} elsif ($cmd eq 'compare') {
  compare(@ARGV);
} else {
  die "doc-output.pl: unknown command $cmd\n";
}
PERL

# ---------------------------------------------------------------------------
# The sandbox's side: a fresh /tmp with a view of the source tree and of the
# build in it, the hostname, PIDs from 4000; then the session, as a child of
# the sandbox's PID 1, so that everything it leaves ends with the sandbox.
cat >"$work/inside.sh" <<'INSIDE'
set -eu
work=$1 top=$2 build=$3
exec 3<"$work/session.sh" 4>"$work/session.out"
hostname vm
echo '(none)' >/proc/sys/kernel/domainname
# One /proc, for the sandbox's PID namespace, as a host has (not the host's
# with the sandbox's on top of it).
umount -l /proc && umount -l /proc 2>/dev/null || true
mount -t proc proc /proc
newtmp=$(mktemp -d "$work/tmp.XXXXXX")
mount -t tmpfs -o mode=1777 tmpfs "$newtmp"
view=$newtmp/nslab
mkdir -p "$view/.source" "$view/build" "$view/.check"
mount --bind "$top" "$view/.source" && mount -o remount,bind,ro "$view/.source"
mount --bind "$build" "$view/build" && mount -o remount,bind,ro "$view/build"
for entry in "$top"/* "$top"/.[!.]*; do
  name=${entry##*/}
  [ -e "$entry" ] || continue
  case "$name" in build|build-*) continue ;; esac
  ln -s ".source/$name" "$view/$name"
done
# The session runs from a file: on a command line (bash -c), its text would
# match the patterns of pgrep -f and pkill -f in the blocks.
cat <&3 >"$view/.check/session.sh"
exec 3<&-
mount --move "$newtmp" /tmp
cd /tmp/nslab
echo 3999 >/proc/sys/kernel/ns_last_pid
status=0
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  LC_ALL=C.UTF-8 TZ=UTC TERM=xterm \
  timeout -s KILL 600 bash .check/session.sh </dev/null >&4 2>&1 4>&- || status=$?
exit "$status"
INSIDE

# ---------------------------------------------------------------------------
if [ ${#pages[@]} -eq 0 ]; then
  for page in docs/en/*.md; do pages+=("$(basename "$page")"); done
fi

# Unmarked output, in every page of both languages.
unmarked_failed=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  echo "check-doc-output: ${line}" >&2
  unmarked_failed=1
done < <(perl "$work/doc-output.pl" lint "${pages[@]/#/docs/en/}" $(for p in "${pages[@]}"; do [ -e "docs/zh/$p" ] && echo "docs/zh/$p"; done))

# The pages run side by side, as many at a time as there are CPUs (each in a
# sandbox of its own, in a directory of its own), and are compared in order.
run_page() {  # run_page INDEX PAGE
  local dir=$work/page.$1 blocks status
  mkdir -p "$dir"
  blocks=$(perl "$work/doc-output.pl" session "docs/en/$2" "$dir/session.sh") || { echo 1 > "$dir/failed"; return; }
  echo "$blocks" > "$dir/blocks"
  [ "$blocks" -gt 0 ] || return 0
  "$top/scripts/sandbox.sh" bash "$work/inside.sh" "$dir" "$top" "$build" >"$dir/sandbox.log" 2>&1
  status=$?
  echo "$status" > "$dir/status"
}
for page in "${pages[@]}"; do
  [ -e "docs/en/$page" ] || fail "no page docs/en/$page"
done
jobs_at_once=${NSLAB_DOC_JOBS:-$(nproc)}
for i in "${!pages[@]}"; do
  while [ "$(jobs -pr | wc -l)" -ge "$jobs_at_once" ]; do wait -n; done
  run_page "$i" "${pages[$i]}" &
done
wait

total=0 drifted=0 problems=$unmarked_failed
for i in "${!pages[@]}"; do
  page=${pages[$i]} dir=$work/page.$i
  en=docs/en/$page zh=docs/zh/$page
  [ ! -e "$dir/failed" ] || exit 1
  [ "$(cat "$dir/blocks" 2>/dev/null || echo 0)" -gt 0 ] || continue
  status=$(cat "$dir/status" 2>/dev/null || echo "none")
  if [ ! -e "$dir/session.out" ] || { [ "$status" != 0 ] && [ ! -s "$dir/session.out" ]; }; then
    cat "$dir/sandbox.log" >&2
    fail "$en: the sandbox did not run (exit status $status)"
  fi
  if ! summary=$(perl "$work/doc-output.pl" compare "$mode" "$en" "$zh" "$dir/session.out"); then
    problems=1
    continue
  fi
  read -r n d p <<<"$summary"
  total=$((total + n)) drifted=$((drifted + d))
  [ "$p" = 0 ] || problems=1
done

pages_text="${#pages[@]} pages"; [ "${#pages[@]}" != 1 ] || pages_text="1 page"
case "$mode" in
  check)
    if [ "$problems" = 0 ]; then
      echo "doc output: $total blocks in $pages_text match a fresh run"
    else
      echo "doc output: $drifted of $total blocks drifted (scripts/check-doc-output.sh --update rewrites them)" >&2
      exit 1
    fi
    ;;
  *)
    [ "$problems" = 0 ] || exit 1
    echo "doc output: $total blocks in $pages_text, $drifted had drifted; the pages now show this run"
    ;;
esac
