#!/usr/bin/perl
# perl HTTP::Tiny (in perl's standard library), a new HTTP::Tiny object per
# request: HTTP::Tiny->new->request(...). HTTP::Tiny does not decode gzip, so
# it asks for none. With --ca CA (https URLs: IO::Socket::SSL, the system
# OpenSSL through Net::SSLeay) each new HTTP::Tiny verifies the server
# against CA alone: verify_SSL => 1, SSL_options => { SSL_ca_file => CA }.
#   pl_httptiny.pl METHOD URL N TAG [--ims DATE] [--gzip] [--body FILE] [--pause I:SEC]...
#       [--ca CA]
# Prints "STATUS BODY_LENGTH SHA256(BODY)" per request.
use strict;
use warnings;
use HTTP::Tiny;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);

my ($method, $url, $n, $tag, @rest) = @ARGV;
my ($ims, $body, $ca, %pause);
while (@rest) {
	my $opt = shift @rest;
	if ($opt eq '--ims') { $ims = shift @rest }
	elsif ($opt eq '--gzip') { }
	elsif ($opt eq '--body') {
		open(my $f, '<:raw', shift @rest) or die "body: $!";
		local $/; $body = <$f>; close $f;
	}
	elsif ($opt eq '--ca') { $ca = shift @rest }
	elsif ($opt eq '--pause') { my ($i, $s) = split /:/, shift @rest; $pause{$i} = $s }
	else { die "unknown option $opt\n" }
}
binmode STDOUT;
for my $i (0 .. $n - 1) {
	my %opt = (headers => {});
	$opt{headers}{'If-Modified-Since'} = $ims if defined $ims;
	$opt{content} = $body if defined $body;
	my %new = (timeout => 30);
	%new = (%new, verify_SSL => 1, SSL_options => { SSL_ca_file => $ca }) if defined $ca;
	my $res = HTTP::Tiny->new(%new)->request($method, "$url?run=$tag&i=$i", \%opt);
	# status 599 is HTTP::Tiny's own error (connection failed, timeout...)
	die "request $i: $res->{content}" if $res->{status} == 599;
	my $b = $res->{content} // '';
	printf "%d %d %s\n", $res->{status}, length($b), sha256_hex($b);
	sleep($pause{$i}) if exists $pause{$i};
}
