<?php
// php_client.php - PHP HTTPS on the system OpenSSL, a new connection per
// URL, for tests/behaviour/tls-reuse-openssl.sh.
//
//   php php_client.php fgc|curl --ca FILE [options] URL...
//
//   fgc   file_get_contents(URL) with a stream context (ssl: cafile,
//         verify_peer, verify_peer_name); PHP's http wrapper asks the
//         server to close (Connection: close)
//   curl  php-curl (libcurl4, OpenSSL; PHP loads the extension with
//         RTLD_DEEPBIND): a new curl handle per URL (CURLOPT_CAINFO), freed
//         after its transfer, which closes its connection
//
// Options: --pause-ms N (sleep before every URL after the first); the
// negative matrix, the first URL as usual (verified, parked under
// keepwarm), every later one different:
//   --second-ca FILE          trust FILE instead
//   --second-host NAME        SNI and verified host name NAME, the connection
//                             still to the URL's address (peer_name for fgc,
//                             CURLOPT_RESOLVE for curl)
//   --second-client-cert C:K  present the client certificate C, key K (fgc:
//                             local_cert, local_pk; curl: CURLOPT_SSLCERT,
//                             CURLOPT_SSLKEY)
//   --sni-each                a new SNI name per URL (first: localhost, then
//                             alt-I.example), the chain verified against
//                             the CA, no host name check, for every URL (fgc:
//                             peer_name, verify_peer_name false; curl:
//                             CURLOPT_RESOLVE, CURLOPT_SSL_VERIFYHOST 0)
//   --second-alpn PROTO       (fgc) offer ALPN PROTO alone (the ssl context's
//                             alpn_protocols; the first URL offers none)
//   --alpn-each               (curl) another ALPN offer for each URL, in
//                             turn: libcurl's default (h2,http/1.1; the
//                             first URL's), http/1.1 alone
//                             (CURL_HTTP_VERSION_1_1), none
//                             (CURLOPT_SSL_ENABLE_ALPN false). libcurl cannot
//                             offer h2 alone (with HTTP/2, even prior
//                             knowledge, over TLS it adds http/1.1)
//
// Prints one line per URL: the body's sha256, or "error ..." (and goes on).
// Exit 0, or 1 when any request failed.
ini_set('display_errors', '0');
ini_set('log_errors', '0');

$args = array_slice($argv, 1);
$style = array_shift($args);
$ca = null;
$pause = 0;
$second_ca = null;
$second_host = null;
$second_cert = null;
$sni_each = false;
$second_alpn = null;
$alpn_each = false;
$urls = [];
while ($args) {
	$a = array_shift($args);
	switch ($a) {
	case '--ca': $ca = array_shift($args); break;
	case '--pause-ms': $pause = (int)array_shift($args); break;
	case '--second-ca': $second_ca = array_shift($args); break;
	case '--second-host': $second_host = array_shift($args); break;
	case '--second-client-cert': $second_cert = array_shift($args); break;
	case '--sni-each': $sni_each = true; break;
	case '--second-alpn': $second_alpn = array_shift($args); break;
	case '--alpn-each': $alpn_each = true; break;
	default: $urls[] = $a;
	}
}
if (($style !== 'fgc' && $style !== 'curl') || $ca === null || !$urls) {
	fwrite(STDERR, "usage: php php_client.php fgc|curl --ca FILE [options] URL...\n");
	exit(2);
}
if (($style === 'curl' && $second_alpn !== null) || ($style === 'fgc' && $alpn_each)) {
	fwrite(STDERR, "php_client.php: --second-alpn is fgc's, --alpn-each curl's\n");
	exit(2);
}

// The request's variation: $o['host'] (SNI and verified name), $o['cert']
// (C:K), $o['alpn'] (fgc: the protocol; curl: 0, 1 or 2, --alpn-each's
// turn), $o['sni'] (SNI, no host name check).

function get_fgc($url, $ca, $o)
{
	$ssl = ['cafile' => $ca, 'verify_peer' => true, 'verify_peer_name' => true];
	if ($o['host'] !== null)
		$ssl['peer_name'] = $o['host'];
	if ($o['sni'] !== null) {
		$ssl['peer_name'] = $o['sni'];
		$ssl['verify_peer_name'] = false;
	}
	if ($o['cert'] !== null)
		[$ssl['local_cert'], $ssl['local_pk']] = explode(':', $o['cert'], 2);
	if ($o['alpn'] !== null)
		$ssl['alpn_protocols'] = $o['alpn'];
	$ctx = stream_context_create(['ssl' => $ssl, 'http' => ['timeout' => 30]]);
	// Every warning of the call (the OpenSSL reason comes before "Failed
	// to open stream"), in order.
	$warnings = [];
	set_error_handler(function ($no, $msg) use (&$warnings) {
		$warnings[] = $msg;
		return true;
	});
	$b = file_get_contents($url, false, $ctx);
	restore_error_handler();
	if ($b === false)
		return [false, $warnings ? implode(' | ', $warnings) : 'file_get_contents failed'];
	return [true, $b];
}

function get_curl($url, $ca, $o)
{
	$u = parse_url($url);
	$h = curl_init();
	$host = $o['sni'] ?? $o['host'];
	if ($host !== null) {
		curl_setopt($h, CURLOPT_RESOLVE, ["$host:{$u['port']}:{$u['host']}"]);
		$url = str_replace("//{$u['host']}:", "//$host:", $url);
	}
	curl_setopt($h, CURLOPT_URL, $url);
	curl_setopt($h, CURLOPT_RETURNTRANSFER, true);
	curl_setopt($h, CURLOPT_CAINFO, $ca);
	curl_setopt($h, CURLOPT_SSL_VERIFYPEER, true);
	curl_setopt($h, CURLOPT_SSL_VERIFYHOST, $o['sni'] !== null ? 0 : 2);
	if ($o['cert'] !== null) {
		[$cert, $key] = explode(':', $o['cert'], 2);
		curl_setopt($h, CURLOPT_SSLCERT, $cert);
		curl_setopt($h, CURLOPT_SSLKEY, $key);
	}
	if ($o['alpn'] === 1)
		curl_setopt($h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	if ($o['alpn'] === 2)
		curl_setopt($h, CURLOPT_SSL_ENABLE_ALPN, false);
	curl_setopt($h, CURLOPT_PROXY, '');
	curl_setopt($h, CURLOPT_TIMEOUT, 30);
	$b = curl_exec($h);
	$status = curl_getinfo($h, CURLINFO_RESPONSE_CODE);
	$r = ($b === false || $status != 200)
		? [false, curl_errno($h) . ': ' . curl_error($h) . " (status $status)"] : [true, $b];
	// PHP 8's curl_close does nothing; the handle goes with its last
	// reference, and libcurl closes the connection then.
	curl_close($h);
	unset($h);
	return $r;
}

$rc = 0;
foreach ($urls as $i => $url) {
	if ($i > 0 && $pause)
		usleep($pause * 1000);
	$c = ($i > 0 && $second_ca !== null) ? $second_ca : $ca;
	$o = [
		'host' => $i > 0 ? $second_host : null,
		'cert' => $i > 0 ? $second_cert : null,
		'alpn' => $alpn_each ? $i % 3 : ($i > 0 ? $second_alpn : null),
		'sni' => $sni_each ? ($i == 0 ? 'localhost' : "alt-$i.example") : null,
	];
	[$ok, $b] = $style === 'fgc' ? get_fgc($url, $c, $o) : get_curl($url, $c, $o);
	if ($ok) {
		echo hash('sha256', $b), "\n";
	} else {
		echo 'error ', str_replace("\n", ' ', $b), "\n";
		$rc = 1;
	}
}
exit($rc);
