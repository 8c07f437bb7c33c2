#!/usr/bin/perl
# perl LWP::UserAgent (libwww-perl), a fresh user agent per request, as in
# scripts that call a helper doing LWP::UserAgent->new->get($url).
#   pl_lwp.pl METHOD URL N TAG [--ims DATE] [--gzip] [--body FILE] [--pause I:SEC]...
# Prints "STATUS BODY_LENGTH SHA256(BODY)" per request (gzip decoded).
use strict;
use warnings;
use LWP::UserAgent;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);

my ($method, $url, $n, $tag, @rest) = @ARGV;
my ($ims, $gzip, $body, %pause);
while (@rest) {
	my $opt = shift @rest;
	if ($opt eq '--ims') { $ims = shift @rest }
	elsif ($opt eq '--gzip') { $gzip = 1 }
	elsif ($opt eq '--body') {
		open(my $f, '<:raw', shift @rest) or die "body: $!";
		local $/; $body = <$f>; close $f;
	}
	elsif ($opt eq '--pause') { my ($i, $s) = split /:/, shift @rest; $pause{$i} = $s }
	else { die "unknown option $opt\n" }
}
binmode STDOUT;
for my $i (0 .. $n - 1) {
	my $ua = LWP::UserAgent->new(timeout => 30);
	my @h;
	push @h, 'If-Modified-Since' => $ims if defined $ims;
	push @h, 'Accept-Encoding' => 'gzip' if $gzip;
	my $u = "$url?run=$tag&i=$i";
	my $res = $method eq 'GET'  ? $ua->get($u, @h)
	        : $method eq 'HEAD' ? $ua->head($u, @h)
	        : $method eq 'POST' ? $ua->post($u, @h, 'Content-Type' => 'application/octet-stream', Content => $body)
	        : die "method $method\n";
	my $b = $res->decoded_content(charset => 'none') // '';
	printf "%d %d %s\n", $res->code, length($b), sha256_hex($b);
	sleep($pause{$i}) if exists $pause{$i};
}
