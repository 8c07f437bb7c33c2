<?php
// php file_get_contents() with a stream context per request (PHP's http
// wrapper speaks HTTP/1.0 and sends Connection: close).
//   php php_fgc.php METHOD URL N TAG [--ims DATE] [--gzip] [--body FILE] [--pause I:SEC]...
// Prints "STATUS BODY_LENGTH SHA256(BODY)" per request.
[$self, $method, $url, $n, $tag] = array_slice($argv, 0, 5);
$rest = array_slice($argv, 5);
$ims = null; $body = null; $pause = [];
while ($rest) {
	$opt = array_shift($rest);
	if ($opt === '--ims') $ims = array_shift($rest);
	elseif ($opt === '--gzip') {}   // HTTP/1.0: nginx does not compress for it anyway
	elseif ($opt === '--body') $body = file_get_contents(array_shift($rest));
	elseif ($opt === '--pause') { [$i, $s] = explode(':', array_shift($rest)); $pause[(int)$i] = (float)$s; }
	else { fwrite(STDERR, "unknown option $opt\n"); exit(2); }
}
for ($i = 0; $i < (int)$n; $i++) {
	$http = ['method' => $method, 'ignore_errors' => true, 'timeout' => 30, 'header' => []];
	if ($ims !== null) $http['header'][] = "If-Modified-Since: $ims";
	if ($body !== null) {
		$http['header'][] = 'Content-Type: application/octet-stream';
		$http['content'] = $body;
	}
	$b = file_get_contents("$url?run=$tag&i=$i", false, stream_context_create(['http' => $http]));
	if ($b === false) { fwrite(STDERR, "request $i failed\n"); exit(1); }
	preg_match('{^HTTP/\S+ (\d+)}', $http_response_header[0], $m);
	printf("%d %d %s\n", $m[1], strlen($b), hash('sha256', $b));
	if (isset($pause[$i])) usleep((int)($pause[$i] * 1e6));
}
