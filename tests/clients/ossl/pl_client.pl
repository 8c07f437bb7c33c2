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
# negative matrix, the first URL as usual (verified, parked under
# keepwarm), every later one different:
#   --second-ca FILE          trust FILE instead (SSL_ca_file)
#   --second-host NAME        SNI and verified host name NAME, the connection
#                             still to the URL's address (SSL_hostname,
#                             SSL_verifycn_name)
#   --second-client-cert C:K  present the client certificate C, key K
#                             (SSL_cert_file, SSL_key_file)
#   --sni-each                a new SNI name per URL (first: localhost, then
#                             alt-I.example; SSL_hostname), the chain
#                             verified against the CA (SSL_verify_mode
#                             VERIFY_PEER), no host name check (lwp:
#                             verify_hostname 0; httptiny:
#                             SSL_verifycn_scheme none), for every URL
#   --second-alpn PROTO       offer ALPN PROTO alone (SSL_alpn_protocols)
#
# Prints one line per URL: the body's sha256, or "error ..." (and goes on).
# Exit 0, or 1 when any request failed.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);

my $style = shift @ARGV // '';
my ($ca, $pause, $second_ca, $second_host, $second_cert, $sni_each, $second_alpn, @urls) =
	(undef, 0, undef, undef, undef, 0, undef);
while (@ARGV) {
	my $a = shift @ARGV;
	if    ($a eq '--ca')          { $ca = shift @ARGV }
	elsif ($a eq '--pause-ms')    { $pause = shift @ARGV }
	elsif ($a eq '--second-ca')   { $second_ca = shift @ARGV }
	elsif ($a eq '--second-host') { $second_host = shift @ARGV }
	elsif ($a eq '--second-client-cert') { $second_cert = shift @ARGV }
	elsif ($a eq '--sni-each')    { $sni_each = 1 }
	elsif ($a eq '--second-alpn') { $second_alpn = shift @ARGV }
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
	if ($i > 0 && defined $second_cert) {
		my ($cert, $key) = split /:/, $second_cert, 2;
		@ssl{qw(SSL_cert_file SSL_key_file)} = ($cert, $key);
	}
	$ssl{SSL_alpn_protocols} = [$second_alpn] if $i > 0 && defined $second_alpn;
	if ($sni_each) {
		$ssl{SSL_hostname} = $i == 0 ? 'localhost' : "alt-$i.example";
		$ssl{SSL_verify_mode} = 1;    # SSL_VERIFY_PEER: the chain still verified
		$ssl{SSL_verifycn_scheme} = 'none' if $style eq 'httptiny';
	}
	my ($ok, $body, $err);
	if ($style eq 'lwp') {
		require LWP::UserAgent;
		my $ua = LWP::UserAgent->new(timeout => 30, ssl_opts => { %ssl, verify_hostname => $sni_each ? 0 : 1 });
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
