Feature: Global settings
  Platform Configuration > Global Settings, reviewed and modified as the Secure Mode
  Deployment Guide says.

  Background:
    Given the global settings of the primary deployment

  @GLB-01
  Scenario: Call protocols the site does not need are disabled
    Then every call protocol that the site does not need is disabled

  @GLB-02
  Scenario: Chat is disabled
    Then "Enable chat" is disabled

  @GLB-03
  Scenario: Outbound calls are disabled
    Then "Enable outbound calls" is disabled

  @GLB-04
  Scenario: Support for Pexip Infinity Connect and the Mobile App is disabled
    Then "Enable support for Pexip Infinity Connect and Mobile App" is disabled

  @GLB-05
  Scenario: A DSCP value is set for management traffic
    Then "DSCP value for management traffic" is the site's management DSCP value

  @GLB-06
  Scenario: SSH is disabled
    Then "Enable SSH" is disabled
    And no node of the primary deployment overrides it to enable SSH

  @GLB-07
  Scenario: Signaling and media port ranges are the ones the site declares
    Then the signaling port range is the site's declared range
    And the media port range is the site's declared range

  @GLB-08
  Scenario: OCSP is overridden with the site's OCSP responder
    Then "OCSP state" is "Override"
    And "OCSP responder URL" is the site's OCSP responder URL

  @GLB-09
  Scenario: SIP TLS certificate verification is on
    Then "SIP TLS certificate verification mode" is "On"

  @GLB-10
  Scenario: HTTP access for external systems is disabled
    Then HTTP access for external systems is disabled

  @GLB-11
  Scenario: A login banner text is configured
    Then "Login banner text" is the site's login banner

  @GLB-12
  Scenario: The management web interface session times out
    Then "Enable management web interface session timeout" is enabled
    And "Management web interface session timeout" is the site's session timeout
