# bench/malloc/programs/churn.pl — perl for the drop-in malloc comparison:
# hashes of arrays, arrays of hashes, string building and regular
# expressions, built and dropped; every count times SCALE ($ARGV[0],
# default 1). The output is independent of Perl's per-process hash seed.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $scale = $ARGV[0] // 1;
sub n { my $count = int($_[0] * $scale); return $count < 1 ? 1 : $count }

my $total = 0;
for my $round (1 .. 2) {
  my %hash_of_arrays;
  for my $i (1 .. n(12000)) {
    $hash_of_arrays{"$round:$i"} = [map { "v$_" x ($_ % 5 + 1) } 1 .. ($i % 12)];
  }
  my $elements = 0;
  $elements += scalar @{$hash_of_arrays{$_}} for keys %hash_of_arrays;
  $total += $elements;
}
print "hash of arrays: $total\n";

my @array_of_hashes = map { {id => $_, name => "n" x ($_ % 700), tags => [1 .. $_ % 9]} } 1 .. n(8000);
my $names = 0;
$names += length $_->{name} for @array_of_hashes;
print "array of hashes: ", scalar(@array_of_hashes), " $names\n";
@array_of_hashes = ();

my $text = "";
$text .= chr(65 + $_ % 26) x ($_ % 50) for 1 .. n(12000);
my $words = () = $text =~ /[AEIOU]+/g;
(my $swapped = $text) =~ s/([A-M])([N-Z])/$2$1/g;
print "string: ", length($text), " $words ", md5_hex($swapped), "\n";
