# pl_client.pl - perl HTTPS on the system OpenSSL (IO::Socket::SSL and
# Net::SSLeay), a new user agent (so a new connection) per URL, for
# tests/behaviour/tls-reuse-openssl.sh.
#
#   perl pl_client.pl lwp|httptiny --ca FILE [options] URL...
#
#   lwp       LWP::UserAgent->new(ssl_opts => { SSL_ca_file => CA, verify_hostname => 1 })
#   httptiny  HTTP::Tiny->new(verify_SSL => 1, SSL_options => { SSL_ca_file => CA })
#
# Options: --pause-ms N (sleep before every URL after the first); the
# negative matrix, for every URL after the first: --second-ca FILE (trust
# FILE instead), --second-host NAME (SNI and verified host name NAME, the
# connection still to the URL's address).
#
# Prints one line per URL: the body's sha256, or "error ..." (and goes on).
# Exit 0, or 1 when any request failed.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);

my $style = shift @ARGV // '';
my ($ca, $pause, $second_ca, $second_host, @urls) = (undef, 0, undef, undef);
while (@ARGV) {
	my $a = shift @ARGV;
	if    ($a eq '--ca')          { $ca = shift @ARGV }
	elsif ($a eq '--pause-ms')    { $pause = shift @ARGV }
	elsif ($a eq '--second-ca')   { $second_ca = shift @ARGV }
	elsif ($a eq '--second-host') { $second_host = shift @ARGV }
	else                          { push @urls, $a }
}
die "usage: pl_client.pl lwp|httptiny --ca FILE [options] URL...\n"
	unless ($style eq 'lwp' || $style eq 'httptiny') && defined $ca && @urls;

my $rc = 0;
for my $i (0 .. $#urls) {
	my $url = $urls[$i];
	sleep($pause / 1000) if $i > 0 && $pause;
	my %ssl = (SSL_ca_file => ($i > 0 && defined $second_ca) ? $second_ca : $ca);
	if ($i > 0 && defined $second_host) {
		$ssl{SSL_hostname} = $second_host;
		$ssl{SSL_verifycn_name} = $second_host;
	}
	my ($ok, $body, $err);
	if ($style eq 'lwp') {
		require LWP::UserAgent;
		my $ua = LWP::UserAgent->new(timeout => 30, ssl_opts => { %ssl, verify_hostname => 1 });
		my $r = $ua->get($url);
		($ok, $body) = ($r->is_success, $r->content);
		$err = $r->status_line . ' ' . ($r->header('Client-Warning') // '');
	} else {
		require HTTP::Tiny;
		my $r = HTTP::Tiny->new(timeout => 30, verify_SSL => 1, SSL_options => \%ssl)->get($url);
		($ok, $body) = ($r->{success}, $r->{content});
		$err = "$r->{status} $r->{reason}: " . ($r->{status} == 599 ? (split /\n/, $r->{content} // '')[0] // '' : '');
	}
	if ($ok) {
		print sha256_hex($body), "\n";
	} else {
		$err =~ s/\s+$//;
		print "error $err\n";
		$rc = 1;
	}
}
exit $rc;
