<?php
// php-curl with a new curl handle per request. PHP loads its curl
// extension (and so libcurl) with RTLD_DEEPBIND: their libc calls bind past
// a preloaded library unless keepwarm redirects them.
//   php php_curl.php METHOD URL N TAG [--ims DATE] [--gzip] [--body FILE] [--pause I:SEC]...
// Prints "STATUS BODY_LENGTH SHA256(BODY)" per request.
[$self, $method, $url, $n, $tag] = array_slice($argv, 0, 5);
$rest = array_slice($argv, 5);
$ims = null; $body = null; $gzip = false; $pause = [];
while ($rest) {
	$opt = array_shift($rest);
	if ($opt === '--ims') $ims = array_shift($rest);
	elseif ($opt === '--gzip') $gzip = true;
	elseif ($opt === '--body') $body = file_get_contents(array_shift($rest));
	elseif ($opt === '--pause') { [$i, $s] = explode(':', array_shift($rest)); $pause[(int)$i] = (float)$s; }
	else { fwrite(STDERR, "unknown option $opt\n"); exit(2); }
}
for ($i = 0; $i < (int)$n; $i++) {
	$h = curl_init("$url?run=$tag&i=$i");
	$headers = [];
	curl_setopt($h, CURLOPT_RETURNTRANSFER, true);
	curl_setopt($h, CURLOPT_TIMEOUT, 30);
	if ($method === 'HEAD') curl_setopt($h, CURLOPT_NOBODY, true);
	if ($ims !== null) $headers[] = "If-Modified-Since: $ims";
	if ($gzip) curl_setopt($h, CURLOPT_ENCODING, 'gzip');
	if ($body !== null) {
		$headers[] = 'Content-Type: application/octet-stream';
		curl_setopt($h, CURLOPT_POST, true);
		curl_setopt($h, CURLOPT_POSTFIELDS, $body);
	}
	curl_setopt($h, CURLOPT_HTTPHEADER, $headers);
	$b = curl_exec($h);
	if ($b === false) { fwrite(STDERR, "request $i failed: " . curl_error($h) . "\n"); exit(1); }
	printf("%d %d %s\n", curl_getinfo($h, CURLINFO_RESPONSE_CODE), strlen($b), hash('sha256', $b));
	curl_close($h);
	if (isset($pause[$i])) usleep((int)($pause[$i] * 1e6));
}
