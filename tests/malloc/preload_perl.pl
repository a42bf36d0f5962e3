# A workload for the drop-in malloc: hashes of arrays, arrays of hashes,
# string concatenation and regular expressions, built and dropped in rounds.
# Every printed line is independent of Perl's per-process hash seed.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $total = 0;
for my $round (1 .. 2) {
  my %hash_of_arrays;
  for my $i (1 .. 40000) {
    $hash_of_arrays{"$round:$i"} = [map { "v$_" x ($_ % 5 + 1) } 1 .. ($i % 12)];
  }
  my $elements = 0;
  $elements += scalar @{$hash_of_arrays{$_}} for keys %hash_of_arrays;
  my @sorted = sort keys %hash_of_arrays;
  print "round $round: ", scalar(@sorted), " keys, $elements elements, first $sorted[0], last $sorted[-1]\n";
  $total += $elements;
}
print "total $total\n";

my @array_of_hashes = map { {id => $_, name => "n" x ($_ % 700), tags => [1 .. $_ % 9]} } 1 .. 25000;
my $names = 0;
$names += length $_->{name} for @array_of_hashes;
my @picked = grep { $_->{id} % 7 == 0 } @array_of_hashes;
print "array of hashes: ", scalar(@array_of_hashes), " $names ", scalar(@picked), "\n";
@array_of_hashes = ();

my $text = "";
$text .= chr(65 + $_ % 26) x ($_ % 50) for 1 .. 40000;
my $words = () = $text =~ /[AEIOU]+/g;
(my $swapped = $text) =~ s/([A-M])([N-Z])/$2$1/g;
print "string: ", length($text), " $words ", md5_hex($swapped), "\n";
undef $text;
undef $swapped;

my %counts;
$counts{join ",", sort { $a <=> $b } map { $_ * $_ % 97 } 1 .. ($_ % 20)}++ for 1 .. 30000;
my $digest = md5_hex(join ";", map { "$_=$counts{$_}" } sort keys %counts);
print "groups: ", scalar(keys %counts), " $digest\n";
