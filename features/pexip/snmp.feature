Feature: SNMP
  The Management Node and each Conferencing Node use secure SNMPv3 (Platform Configuration >
  Management Node, and > Conferencing Nodes).

  Background:
    Given the nodes of the primary deployment

  @SNMP-01
  Scenario: Every node uses SNMPv3 read-only
    Then every node's "SNMP mode" is "SNMPv3 read-only"

  @SNMP-02
  Scenario: Every node's SNMPv3 credentials match the SNMP management station's
    Then every node's SNMPv3 username, authentication password and privacy password are the site's

  @SNMP-03
  Scenario: No node uses the SNMP community "public"
    Then no node's "SNMP community" is "public"
