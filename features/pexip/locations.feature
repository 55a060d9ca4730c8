Feature: Location DSCP tags and MTU
  Platform Configuration > Locations: DSCP tags for signaling and media, and the MTU,
  for every location.

  Background:
    Given every location of the primary deployment

  @LOC-01
  Scenario: Every location tags media with DSCP 51
    Then every location's "DSCP value for media" is the guide's value

  @LOC-02
  Scenario: Every location tags signaling with DSCP 40
    Then every location's "DSCP value for signaling" is the guide's value

  @LOC-03
  Scenario: Every location uses an MTU of 1400 bytes
    Then every location's "MTU" is the guide's value
