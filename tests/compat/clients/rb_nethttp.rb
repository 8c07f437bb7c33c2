#!/usr/bin/ruby
# ruby net/http, one call per request: Net::HTTP.get_response (GET, with the
# If-Modified-Since header when asked), Net::HTTP.post, and Net::HTTP.start
# { |h| h.head }. Each opens and finishes its own connection. Net::HTTP asks
# for gzip itself and decompresses. An https URL goes over TLS (ruby's
# openssl extension, the system OpenSSL) with Ruby's default trust store:
# the caller sets SSL_CERT_FILE to the CA.
#   rb_nethttp.rb METHOD URL N TAG [--ims DATE] [--gzip] [--body FILE] [--pause I:SEC]...
# Prints "STATUS BODY_LENGTH SHA256(BODY)" per request.
require "net/http"
require "digest"

method, url, n, tag = ARGV[0], ARGV[1], Integer(ARGV[2]), ARGV[3]
ims = nil
body = nil
pauses = {}
rest = ARGV[4..]
until rest.empty?
  case opt = rest.shift
  when "--ims" then ims = rest.shift
  when "--gzip" then nil # Net::HTTP sends Accept-Encoding: gzip by itself
  when "--body" then body = File.binread(rest.shift)
  when "--pause"
    i, s = rest.shift.split(":")
    pauses[Integer(i)] = Float(s)
  else abort "unknown option #{opt}"
  end
end

$stdout.binmode
n.times do |i|
  uri = URI("#{url}?run=#{tag}&i=#{i}")
  headers = {}
  headers["If-Modified-Since"] = ims if ims
  res = case method
        when "GET" then Net::HTTP.get_response(uri, headers)
        when "POST" then Net::HTTP.post(uri, body, headers)
        when "HEAD" then Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https") { |h| h.head(uri.request_uri, headers) }
        else abort "method #{method}"
        end
  b = res.body || ""
  $stdout.write("#{res.code} #{b.bytesize} #{Digest::SHA256.hexdigest(b)}\n")
  sleep(pauses[i]) if pauses[i]
end
