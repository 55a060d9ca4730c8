Feature: Management Node deployment and bootstrap configuration
  The installation wizard of the Management Node is completed with incident reporting and
  usage statistics switched off; the answers show in the Management Node's global settings.

  Background:
    Given the global settings of the primary deployment

  @MGMT-01
  Scenario: Incident reporting is disabled
    Then "Enable incident reporting" is disabled

  @MGMT-02
  Scenario: Deployment and usage statistics are not sent to Pexip
    Then "Send deployment and usage statistics to Pexip" is disabled

  @MGMT-03
  Scenario: The configured administrator logs in to the Administrator interface over HTTPS
    Then the configured administrator logs in to the Administrator interface over HTTPS
