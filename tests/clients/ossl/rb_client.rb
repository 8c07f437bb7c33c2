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
# negative matrix (start only), the first URL as usual (verified, parked
# under keepwarm), every later one different:
#   --second-ca FILE          trust FILE instead (ca_file=)
#   --second-host NAME        SNI and verified host name NAME, the connection
#                             still to the URL's address (Net::HTTP.new(NAME),
#                             ipaddr=)
#   --second-client-cert C:K  present the client certificate C, key K (cert=,
#                             key=)
#   --sni-each                a new SNI name per URL (first: localhost, then
#                             alt-I.example; Net::HTTP.new(NAME), ipaddr=),
#                             the chain verified against the CA, no host
#                             name check (verify_hostname = false), for
#                             every URL
#   --second-alpn PROTO       offer ALPN PROTO alone: Net::HTTP has no ALPN
#                             attribute, so the SSLContext it makes gets
#                             alpn_protocols = [PROTO] after its set_params
#                             (a module prepended to SSLContext)
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
second_cert = nil
sni_each = false
second_alpn = nil
urls = []
until ARGV.empty?
  a = ARGV.shift
  case a
  when '--ca' then ca = ARGV.shift
  when '--pause-ms' then pause = ARGV.shift.to_i
  when '--second-ca' then second_ca = ARGV.shift
  when '--second-host' then second_host = ARGV.shift
  when '--second-client-cert' then second_cert = ARGV.shift
  when '--sni-each' then sni_each = true
  when '--second-alpn' then second_alpn = ARGV.shift
  else urls << a
  end
end
unless %w[get_response start].include?(style) && (ca || style == 'get_response') && !urls.empty?
  warn 'usage: ruby rb_client.rb get_response|start --ca FILE [options] URL...'
  exit 2
end

# The ALPN offer of the next Net::HTTP connection (nil: Net::HTTP's own, none).
$alpn = nil
module ALPNOffer
  def set_params(params = {})
    r = super
    self.alpn_protocols = $alpn if $alpn
    r
  end
end
OpenSSL::SSL::SSLContext.prepend(ALPNOffer)

rc = 0
urls.each_with_index do |url, i|
  sleep(pause / 1000.0) if i.positive? && pause.positive?
  u = URI(url)
  begin
    r = if style == 'get_response'
          Net::HTTP.get_response(u)
        else
          host = i.positive? && second_host ? second_host : u.host
          host = i.zero? ? 'localhost' : "alt-#{i}.example" if sni_each
          h = Net::HTTP.new(host, u.port, nil)
          h.ipaddr = u.host if host != u.host
          h.use_ssl = true
          h.ca_file = i.positive? && second_ca ? second_ca : ca
          h.verify_mode = OpenSSL::SSL::VERIFY_PEER
          h.verify_hostname = false if sni_each
          if i.positive? && second_cert
            cert, key = second_cert.split(':', 2)
            h.cert = OpenSSL::X509::Certificate.new(File.read(cert))
            h.key = OpenSSL::PKey.read(File.read(key))
          end
          $alpn = i.positive? && second_alpn ? [second_alpn] : nil
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
