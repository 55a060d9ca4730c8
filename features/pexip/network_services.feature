Feature: Securing network services
  System Configuration > DNS Servers, NTP Servers and Syslog Servers, as used by the
  Management Node and by every location's Conferencing Nodes.

  @NET-01
  Scenario: At least two DNS servers are configured
    Given the Management Node and the locations of the primary deployment
    Then the Management Node and every location use at least two DNS servers

  @NET-02
  Scenario: At least two NTP servers are configured, each with key authentication
    Given the Management Node and the locations of the primary deployment
    Then the Management Node and every location use at least two NTP servers
    And every NTP server they use has the site's key ID and key

  @NET-03
  Scenario: At least one remote syslog server is configured
    Given the Management Node and the locations of the primary deployment
    Then the Management Node uses at least one of the site's remote syslog servers
