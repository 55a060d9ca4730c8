Feature: TLS certificates
  Every node has a certificate of its own, signed by a trusted CA, valid for its names, and
  serves it with the full chain (Secure Mode guide: "TLS certificates"; the guide to TLS and
  trusted CA certificates). Read through the primary deployment's management API, then seen on
  the wire at every node of each deployment the site names (primary and contingency).

  Background:
    Given the certificates of the primary deployment

  @TLS-01
  Scenario: Every node has an assigned certificate that is not the shipped self-signed one
    Then every node has an assigned certificate
    And no node uses a temporary (self-signed) certificate

  @TLS-02
  Scenario: Every Conferencing Node's SIP TLS FQDN is in its certificate
    Then every Conferencing Node has a SIP TLS FQDN that matches an entry of its certificate

  @TLS-03
  Scenario: Each node's certificate is valid for the node's FQDN
    Then each node's certificate is valid for the node's FQDN
    And each node's HTTPS listener (443) in each deployment the site names presents a certificate valid for the node's FQDN

  @TLS-04
  Scenario: Certificates are signed with SHA-256 or stronger
    Then no assigned certificate or trusted CA certificate has the status "Weak signature"

  @TLS-05
  Scenario: Each certificate has at least one SAN entry
    Then every assigned certificate has at least one subject alternative name

  @TLS-06
  Scenario: Conferencing Nodes do not use wildcard certificates when SIP is enabled
    Given SIP is enabled
    Then no Conferencing Node uses a wildcard certificate

  @TLS-07
  Scenario: Every assigned certificate chains to a trusted CA certificate on the platform
    Then every assigned certificate chains to a trusted CA certificate

  @CA-01
  Scenario: The trusted CA list holds every intermediate and root the certificates need
    Then the trusted CA list holds every intermediate and root of the assigned certificates

  @TLS-08
  Scenario: Each node serves its assigned certificate with the full chain
    Then each node of each deployment the site names serves its assigned certificate with the full chain on HTTPS (443)
    And each Conferencing Node of each deployment the site names serves its assigned certificate with the full chain on the site's SIP TLS listen port

  @TLS-09
  Scenario: No certificate has expired or expires within 30 days
    Then no TLS certificate or trusted CA certificate expires within 30 days

  @TLS-16
  Scenario: Management and Conferencing Node web responses carry HSTS
    Then the web responses of every Management Node and Conferencing Node of each deployment the site names carry HSTS
