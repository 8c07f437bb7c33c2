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
// negative matrix, for every URL after the first: --second-ca FILE (trust
// FILE instead), --second-host NAME (SNI and verified host name NAME, the
// connection still to the URL's address: peer_name for fgc, CURLOPT_RESOLVE
// for curl).
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
$urls = [];
while ($args) {
	$a = array_shift($args);
	switch ($a) {
	case '--ca': $ca = array_shift($args); break;
	case '--pause-ms': $pause = (int)array_shift($args); break;
	case '--second-ca': $second_ca = array_shift($args); break;
	case '--second-host': $second_host = array_shift($args); break;
	default: $urls[] = $a;
	}
}
if (($style !== 'fgc' && $style !== 'curl') || $ca === null || !$urls) {
	fwrite(STDERR, "usage: php php_client.php fgc|curl --ca FILE [options] URL...\n");
	exit(2);
}

function get_fgc($url, $ca, $host)
{
	$ssl = ['cafile' => $ca, 'verify_peer' => true, 'verify_peer_name' => true];
	if ($host !== null)
		$ssl['peer_name'] = $host;
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

function get_curl($url, $ca, $host)
{
	$u = parse_url($url);
	$h = curl_init();
	if ($host !== null) {
		curl_setopt($h, CURLOPT_RESOLVE, ["$host:{$u['port']}:{$u['host']}"]);
		$url = str_replace("//{$u['host']}:", "//$host:", $url);
	}
	curl_setopt($h, CURLOPT_URL, $url);
	curl_setopt($h, CURLOPT_RETURNTRANSFER, true);
	curl_setopt($h, CURLOPT_CAINFO, $ca);
	curl_setopt($h, CURLOPT_SSL_VERIFYPEER, true);
	curl_setopt($h, CURLOPT_SSL_VERIFYHOST, 2);
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
	$n = $i > 0 ? $second_host : null;
	[$ok, $b] = $style === 'fgc' ? get_fgc($url, $c, $n) : get_curl($url, $c, $n);
	if ($ok) {
		echo hash('sha256', $b), "\n";
	} else {
		echo 'error ', str_replace("\n", ' ', $b), "\n";
		$rc = 1;
	}
}
exit($rc);
