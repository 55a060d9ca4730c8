Feature: SNMP
  The Management Node and each Conferencing Node use secure SNMPv3 (Platform Configuration >
  Management Node, and > Conferencing Nodes). What the API says is checked against the site; what
  the agents answer is checked on the wire, with SNMP GET requests to every node of each
  deployment the site names.

  @SNMP-01
  Scenario: Every node uses SNMPv3 read-only
    Given the nodes of the primary deployment
    Then every node's "SNMP mode" is "SNMPv3 read-only"

  @SNMP-02
  Scenario: Every node's SNMPv3 credentials match the SNMP management station's
    Given the nodes of the primary deployment
    Then every node's SNMPv3 username, authentication password and privacy password are the site's

  @SNMP-03
  Scenario: No node uses the SNMP community "public"
    Given the nodes of the primary deployment
    Then no node's "SNMP community" is "public"

  @SNMP-04
  Scenario: SNMPv3 read-only answers only SHA1 authentication with AES-128 privacy
    Given the nodes of each deployment the site names, primary and contingency
    Then every node answers an SNMPv3 GET from the site's user with SHA1 authentication and AES-128 privacy
    And no node answers the site's user with MD5 authentication or DES privacy
    And no node answers SNMPv1 or SNMPv2c, with the community "public" or the site's community
