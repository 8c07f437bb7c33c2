# rb_client.rb - ruby net/http on the system OpenSSL (its openssl
# extension), a new connection per URL, for
# tests/behaviour/tls-reuse-openssl.sh.
#
#   ruby rb_client.rb get_response|start --ca FILE [options] URL...
#
#   get_response  Net::HTTP.get_response(URI(url)): Ruby's default trust
#                 store, so the CA comes from SSL_CERT_FILE (the caller
#                 sets it; --ca is ignored)
#   start         Net::HTTP.start(host, port, use_ssl: true, ca_file: CA,
#                 verify_mode: VERIFY_PEER) { |h| h.get(path) } per URL
#
# Options: --pause-ms N (sleep before every URL after the first); the
# negative matrix (start only), for every URL after the first:
# --second-ca FILE (trust FILE instead), --second-host NAME (SNI and
# verified host name NAME, the connection still to the URL's address:
# Net::HTTP#ipaddr=).
#
# Prints one line per URL: the body's sha256, or "error ..." (and goes on).
# Exit 0, or 1 when any request failed.
require 'digest'
require 'net/http'
require 'openssl'

style = ARGV.shift
ca = nil
pause = 0
second_ca = nil
second_host = nil
urls = []
until ARGV.empty?
  a = ARGV.shift
  case a
  when '--ca' then ca = ARGV.shift
  when '--pause-ms' then pause = ARGV.shift.to_i
  when '--second-ca' then second_ca = ARGV.shift
  when '--second-host' then second_host = ARGV.shift
  else urls << a
  end
end
unless %w[get_response start].include?(style) && (ca || style == 'get_response') && !urls.empty?
  warn 'usage: ruby rb_client.rb get_response|start --ca FILE [options] URL...'
  exit 2
end

rc = 0
urls.each_with_index do |url, i|
  sleep(pause / 1000.0) if i.positive? && pause.positive?
  u = URI(url)
  begin
    r = if style == 'get_response'
          Net::HTTP.get_response(u)
        else
          host = i.positive? && second_host ? second_host : u.host
          h = Net::HTTP.new(host, u.port, nil)
          h.ipaddr = u.host if host != u.host
          h.use_ssl = true
          h.ca_file = i.positive? && second_ca ? second_ca : ca
          h.verify_mode = OpenSSL::SSL::VERIFY_PEER
          h.open_timeout = h.read_timeout = 30
          h.start { |c| c.get(u.request_uri) }
        end
    raise "status #{r.code}" unless r.code == '200'

    puts Digest::SHA256.hexdigest(r.body)
  rescue StandardError => e
    puts "error #{e.class}: #{e.message}"
    rc = 1
  end
  $stdout.flush
end
exit rc
