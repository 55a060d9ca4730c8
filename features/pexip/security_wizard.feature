Feature: Management Node bootstrap: the security wizard
  The security wizard is run on the Management Node's console (`securitywizard`) of the primary
  deployment, and of the contingency deployment, which mimics the primary installation. No
  management API shows its answers, so each is verified where the network sees it, on every node
  of each deployment the site names; what no probe can see is attested in the site file.

  Background:
    Given the nodes of each deployment the site names, primary and contingency

  @SECW-01
  Scenario: FIPS 140-2 compliance mode is enabled
    Then no node's HTTPS or SIP TLS listener accepts a TLS 1.0, 1.1 or 1.2 handshake offering only cipher suites that are not FIPS-approved, such as ChaCha20-Poly1305, Camellia or ARIA
    And no node's HTTPS or SIP TLS listener accepts a TLS 1.3 handshake offering only TLS_CHACHA20_POLY1305_SHA256
    And every node's HTTPS and SIP TLS listeners accept a TLS 1.2 handshake offering only AES-GCM

  @SECW-02
  Scenario: The system administrator account is disabled
    Then no node accepts a TCP connection on its SSH port (22)
    And every node accepts a TCP connection on its HTTPS port (443), so the silence was the node's
    And the site file attests it

  @SECW-03
  Scenario: ICMPv6 redirects are not accepted
    Then the site file attests it

  @SECW-04
  Scenario: Incoming packets to closed ports are dropped rather than rejected
    Then a TCP connection to a closed port (23) of every node times out instead of being reset
    And every node accepts a TCP connection on its HTTPS port (443), so the silence was the node's

  @SECW-05
  Scenario: Multicast ICMPv6 echo requests are not accepted
    Then the site file attests it

  @SECW-06
  Scenario: IPv6 Duplicate Address Detection is disabled
    Then the site file attests it

  @SECW-07
  Scenario: SIP listens on the site's UDP, TCP and TLS listen ports
    Then every Conferencing Node answers SIP OPTIONS over UDP, TCP and TLS on the site's SIP listen ports

  @SECW-08
  Scenario: Active management web sessions are limited in total and per user
    Given a scratch Management Node
    And the deployer brought it to the site's baseline with local login kept
    When the local administrator logs in as many times as the per-user session limit allows
    Then one more login of the local administrator is refused
    When the site's session users log in until the total session limit is reached
    Then one more login of a session user with sessions to spare is refused

  @SECW-09
  Scenario: Management web validation of host headers is enabled
    Then every Management Node refuses a request to the Administrator interface with a foreign Host header
    And every Management Node answers the same request when the Host header is its own FQDN

  @SECW-10
  Scenario: TLS 1.0 is disabled on every TLS listener
    Then no node's HTTPS or SIP TLS listener accepts a TLS 1.0 handshake

  @SECW-11
  Scenario: Anonymous DH for outbound SIP/TLS is disabled
    Then the site file attests it
