Feature: IPv6 (optional)
  If required, the IPv6 address and IPv6 gateway of the Management Node and of each
  Conferencing Node are configured.

  @IPV6-01
  Scenario: Every node has its IPv6 address and gateway
    Given the site uses IPv6
    And the nodes of the primary deployment
    Then every node has the IPv6 address and IPv6 gateway that the site gives it
