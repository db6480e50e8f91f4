#!/usr/bin/env bash
# Checks that the English and Chinese tutorials have one structure: every page
# in docs/en/ has a twin of the same name in docs/zh/ and the other way round,
# and each pair has
#
#   - the same headings, each with an anchor {#...}, at the same levels, in the
#     same order (the anchors are the sections' names: tests, TODOs and \ref
#     point at them);
#   - the same exercises, each a heading "Exercise N: ..." / "练习 N：..." with
#     the anchor labNN-exN, numbered 1, 2, ... in order; each one links
#     (\ref labNN-exN-answer) to its answer on the lab's answers page (anchor
#     labNN-answers), which has one section per exercise, in the same order;
#   - the same \snippet quotes, in the same order;
#   - the same marked output blocks (<!-- run --> and <!-- sample -->), with the
#     same text: commands and output are the same in every language
#     (scripts/check-doc-output.sh runs them).
#
#   scripts/check-docs.sh
#
# Exit 0 with one line when all pages agree; exit 1 naming the page and the
# first difference. docs/README.md describes the structure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v perl >/dev/null || { echo "check-docs: needs perl (Debian: perl-base)" >&2; exit 1; }

exec perl -CSDA -Mutf8 -e '
use strict;
use warnings;

my @problems;
sub problem { push @problems, join("", @_); }

sub slurp {
  my ($file) = @_;
  open my $fh, "<:encoding(UTF-8)", $file or die "check-docs: $file: $!\n";
  local $/; my $text = <$fh>; close $fh;
  return $text;
}

# What a page is made of: headings, snippets, marked blocks, exercise links.
sub structure {
  my ($file) = @_;
  my @lines = split /\n/, slurp($file), -1;
  my (%page, $fence, $marker, $block);
  $page{file} = $file;
  my $section;  # the exercise heading we are under, if any
  for (my $i = 0; $i < @lines; $i++) {
    my $line = $lines[$i];
    my $n = $i + 1;
    if (defined $fence) {
      if ($line =~ /^\s*\Q$fence\E\s*$/) {
        push @{ $page{blocks} }, $block if $block;
        undef $fence; undef $block;
      } elsif ($block) {
        (my $l = $line) =~ s/[ \t]+$//;
        $l =~ s/^\Q$block->{indent}\E//;
        push @{ $block->{lines} }, $l;
      }
      next;
    }
    if ($line =~ /^(\s*)(```+|~~~+)/) {
      $fence = $2;
      $block = $marker ? { kind => $marker, line => $n, indent => $1, lines => [] } : undef;
      undef $marker;
      next;
    }
    $marker = ($line =~ /^\s*<!--\s*(run|sample)\s*-->\s*$/) ? $1 : undef;
    if ($line =~ /^(#{1,6})\s+(.*?)\s*$/) {
      my ($level, $title) = (length $1, $2);
      my $anchor;
      if ($title =~ s/\s*\{#([A-Za-z0-9_-]+)\}$//) { $anchor = $1; }
      else { problem("$file:$n: the heading \"$line\" has no anchor {#...}: every heading needs one, the same in both languages"); }
      push @{ $page{headings} }, { level => $level, anchor => $anchor // "", title => $title, line => $n };
      $section = (defined $anchor && $anchor =~ /^(lab\d\d)-ex(\d+)$/) ? $page{headings}[-1] : ($level <= 3 ? undef : $section);
      next;
    }
    if ($line =~ /\\snippet\s+(\S+)\s+(\S+)/) {
      push @{ $page{snippets} }, { text => "$1 $2", line => $n };
    }
    while ($section && $line =~ /\\ref\s+(lab\d\d-ex\d+-answer)\b/g) { $section->{links}{$1} = 1; }
  }
  problem("$file: a fenced block is never closed") if defined $fence;
  $page{$_} //= [] for qw(headings snippets blocks);
  return \%page;
}

sub heading_text { my ($h) = @_; return ("#" x $h->{level}) . " $h->{title} {#$h->{anchor}}"; }

# The first place where two lists differ, or -1.
sub first_difference {
  my ($a, $b, $key) = @_;
  my $n = @$a > @$b ? @$a : @$b;
  for my $i (0 .. $n - 1) {
    return $i unless defined $a->[$i] && defined $b->[$i] && $key->($a->[$i]) eq $key->($b->[$i]);
  }
  return -1;
}

sub describe { my ($file, $item, $text) = @_; return defined $item ? "$file:$item->{line}: $text" : "$file: (nothing: the list ends here)"; }

my %pages;
for my $lang (qw(en zh)) {
  for my $file (glob("docs/$lang/*.md")) {
    (my $name = $file) =~ s{^docs/$lang/}{};
    $pages{$name}{$lang} = structure($file);
  }
}

for my $name (sort keys %pages) {
  my ($en, $zh) = @{ $pages{$name} }{qw(en zh)};
  if (!$en || !$zh) {
    my $have = $en ? "docs/en/$name" : "docs/zh/$name";
    my $missing = $en ? "docs/zh/$name" : "docs/en/$name";
    problem("$missing: missing: $have has no twin in the other language");
    next;
  }
  my ($ef, $zf) = ($en->{file}, $zh->{file});

  # Headings: level and anchor, in order.
  my $i = first_difference($en->{headings}, $zh->{headings}, sub { "$_[0]{level} $_[0]{anchor}" });
  if ($i >= 0) {
    my ($a, $b) = ($en->{headings}[$i], $zh->{headings}[$i]);
    problem("$name: heading " . ($i + 1) . " differs between the languages:\n"
      . "    " . describe($ef, $a, defined $a ? heading_text($a) : "") . "\n"
      . "    " . describe($zf, $b, defined $b ? heading_text($b) : ""));
  }

  # Exercises: numbered in order, titled as such, each linked to its answer.
  for my $page ($en, $zh) {
    my $want = 1;
    my ($prefix, $colon) = $page->{file} =~ m{^docs/zh/} ? ("练习", "：") : ("Exercise", ":");
    for my $h (grep { $_->{anchor} =~ /^lab\d\d-ex\d+$/ } @{ $page->{headings} }) {
      my ($lab, $number) = $h->{anchor} =~ /^(lab\d\d)-ex(\d+)$/;
      problem("$page->{file}:$h->{line}: exercise {#$h->{anchor}} comes where exercise $want belongs: number them 1, 2, ... in order")
        if $number != $want;
      problem("$page->{file}:$h->{line}: the heading of exercise $number reads \"$h->{title}\": it starts with \"$prefix $number$colon\"")
        unless $h->{title} =~ /^\Q$prefix $number$colon\E/;
      problem("$page->{file}:$h->{line}: exercise $number does not link to its answer: \\ref $lab-ex$number-answer (after a warning that it gives the answer away)")
        unless $h->{links}{"$lab-ex$number-answer"};
      $want = $number + 1;
      $page->{exercises}{$lab}[$number - 1] = $h;
    }
  }

  # Snippets and marked blocks: the same, in order.
  $i = first_difference($en->{snippets}, $zh->{snippets}, sub { $_[0]{text} });
  if ($i >= 0) {
    my ($a, $b) = ($en->{snippets}[$i], $zh->{snippets}[$i]);
    problem("$name: \\snippet " . ($i + 1) . " differs between the languages:\n"
      . "    " . describe($ef, $a, defined $a ? "\\snippet $a->{text}" : "") . "\n"
      . "    " . describe($zf, $b, defined $b ? "\\snippet $b->{text}" : ""));
  }
  $i = first_difference($en->{blocks}, $zh->{blocks}, sub { "$_[0]{kind}\n" . join("\n", @{ $_[0]{lines} }) });
  if ($i >= 0) {
    my ($a, $b) = ($en->{blocks}[$i], $zh->{blocks}[$i]);
    my $what = "";
    if ($a && $b && $a->{kind} eq $b->{kind}) {
      my $k = first_difference($a->{lines}, $b->{lines}, sub { $_[0] });
      $what = " at line " . ($k + 1) . " of the block: \"" . ($a->{lines}[$k] // "(end)") . "\" / \"" . ($b->{lines}[$k] // "(end)") . "\"";
    }
    problem("$name: marked block " . ($i + 1) . " differs between the languages$what (commands and output are the same in both):\n"
      . "    " . describe($ef, $a, defined $a ? "<!-- $a->{kind} -->" : "") . "\n"
      . "    " . describe($zf, $b, defined $b ? "<!-- $b->{kind} -->" : ""));
  }
}

# Answers pages: one per lab with exercises, a section per exercise, in order.
for my $lang (qw(en zh)) {
  my (%exercises, %answers);
  for my $name (keys %pages) {
    my $page = $pages{$name}{$lang} or next;
    %exercises = (%exercises, %{ $page->{exercises} || {} });
    my ($top) = @{ $page->{headings} };
    if ($top && $top->{anchor} =~ /^(lab\d\d)-answers$/) { $answers{$1} = $page; }
  }
  for my $lab (sort keys %exercises) {
    my $page = $answers{$lab};
    my $count = @{ $exercises{$lab} };
    if (!$page) { problem("docs/$lang: $lab has exercises but no answers page (a page whose title has the anchor {#$lab-answers})"); next; }
    my @sections = grep { $_->{anchor} =~ /^$lab-ex\d+-answer$/ } @{ $page->{headings} };
    my @want = map { "$lab-ex$_-answer" } 1 .. $count;
    my $i = first_difference([map { $_->{anchor} } @sections], \@want, sub { $_[0] });
    next if $i < 0;
    problem("$page->{file}: the answers do not follow the exercises: section " . ($i + 1) . " is "
      . (defined $sections[$i] ? "{#$sections[$i]{anchor}} (line $sections[$i]{line})" : "missing")
      . ", where {#" . ($want[$i] // "nothing") . "} belongs");
  }
}

if (@problems) {
  print STDERR "check-docs: $_\n" for @problems;
  exit 1;
}
my $n = keys %pages;
print "docs: $n pages, English and Chinese with the same sections, exercises and output blocks\n";
'
