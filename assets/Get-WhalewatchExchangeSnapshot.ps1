<#
.SYNOPSIS
    Writes the Exchange Online settings whalewatch's posture checks need (and no Graph
    API reads) as one JSON snapshot: `whalewatch posture import FILE` stores it.

.DESCRIPTION
    READ-ONLY: runs only Get-* cmdlets of the ExchangeOnlineManagement module and
    changes nothing in the tenant. It reads:

      Get-User -IsVIP                     the priority accounts (VIP list)
      Get-EmailTenantSettings             EnablePriorityAccountProtection
      Get-EOPProtectionPolicyRule         Standard / Strict preset rules (EOP)
      Get-ATPProtectionPolicyRule         Standard / Strict preset rules (Defender for Office 365)
      Get-DistributionGroupMember /       members of every group a preset rule names
        Get-UnifiedGroupLinks               (SentToMemberOf, ExceptIfSentToMemberOf)
      Get-TransportConfig                 SmtpClientAuthenticationDisabled (organisation)
      Get-OrganizationConfig              AuditDisabled, Name
      Get-EXOCasMailbox / Get-CASMailbox  POP, IMAP, ActiveSync, EWS, MAPI, SMTP AUTH per VIP
      Get-EXOMailbox / Get-Mailbox        AuditEnabled per VIP

    The JSON has the shape of whalewatch's `ExchangeSnapshot` (camelCase keys, schema
    tag "whalewatch.exchange-snapshot/1"). No secret or token is written.

    Required role (read-only): Global Reader, or the Exchange Online "View-Only
    Organization Management" role group (Security Reader does not cover
    Get-TransportConfig / Get-CASMailbox).

.PARAMETER OutFile
    Where to write the snapshot (UTF-8). Default: exchange-snapshot.json in the current
    directory.

.PARAMETER NoConnect
    Do not call Connect-ExchangeOnline (use a session you opened yourself).

.EXAMPLE
    pwsh ./Get-WhalewatchExchangeSnapshot.ps1 -OutFile ./exchange-snapshot.json
    whalewatch posture import ./exchange-snapshot.json

.EXAMPLE
    Connect-ExchangeOnline -UserPrincipalName reader@contoso.com
    ./Get-WhalewatchExchangeSnapshot.ps1 -NoConnect -OutFile snap.json

.NOTES
    Needs the ExchangeOnlineManagement module (Install-Module ExchangeOnlineManagement).
    Runs on PowerShell 7 and Windows PowerShell 5.1.
#>
[CmdletBinding()]
param(
    [string]$OutFile = (Join-Path (Get-Location) 'exchange-snapshot.json'),
    [switch]$NoConnect
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

if (-not $NoConnect) {
    Import-Module ExchangeOnlineManagement
    Connect-ExchangeOnline -ShowBanner:$false
}

function ConvertTo-Addresses($values) {
    # Rule conditions hold recipient ids as Exchange shows them; keep them as text.
    # The leading comma keeps a one-element (or empty) array an array in the JSON.
    , @($values | Where-Object { $_ } | ForEach-Object { "$_" })
}

function Get-Bool($object, [string]$name) {
    # $null stays null (a tri-state such as SmtpClientAuthenticationDisabled).
    if ($null -eq $object) { return $null }
    $p = $object.PSObject.Properties[$name]
    if ($null -eq $p -or $null -eq $p.Value) { return $null }
    [bool]$p.Value
}

$org = Get-OrganizationConfig
$transport = Get-TransportConfig
$tenantSettings = $null
try { $tenantSettings = Get-EmailTenantSettings } catch {
    Write-Warning "Get-EmailTenantSettings failed (Defender for Office 365 needed): $($_.Exception.Message)"
}

$vipUsers = @(Get-User -IsVIP -ResultSize Unlimited)
$vips = @($vipUsers | ForEach-Object {
        if ($_.WindowsEmailAddress) { "$($_.WindowsEmailAddress)".ToLowerInvariant() }
        else { "$($_.UserPrincipalName)".ToLowerInvariant() }
    } | Sort-Object -Unique)

$rules = @()
$groups = @{}
foreach ($kind in 'EOP', 'ATP') {
    $found = @()
    try {
        if ($kind -eq 'EOP') { $found = @(Get-EOPProtectionPolicyRule) }
        else { $found = @(Get-ATPProtectionPolicyRule) }
    } catch {
        Write-Warning "Get-${kind}ProtectionPolicyRule failed: $($_.Exception.Message)"
    }
    foreach ($r in $found) {
        $preset = if ("$($r.Name)" -like 'Strict*') { 'Strict' } elseif ("$($r.Name)" -like 'Standard*') { 'Standard' } else { '' }
        $rules += [ordered]@{
            name                      = "$($r.Name)"
            preset                    = $preset
            kind                      = $kind
            state                     = "$($r.State)"
            sentTo                    = ConvertTo-Addresses $r.SentTo
            sentToMemberOf            = ConvertTo-Addresses $r.SentToMemberOf
            recipientDomainIs         = ConvertTo-Addresses $r.RecipientDomainIs
            exceptIfSentTo            = ConvertTo-Addresses $r.ExceptIfSentTo
            exceptIfSentToMemberOf    = ConvertTo-Addresses $r.ExceptIfSentToMemberOf
            exceptIfRecipientDomainIs = ConvertTo-Addresses $r.ExceptIfRecipientDomainIs
        }
        foreach ($g in (ConvertTo-Addresses $r.SentToMemberOf) + (ConvertTo-Addresses $r.ExceptIfSentToMemberOf)) {
            $groups[$g] = $true
        }
    }
}

# Expand every group a rule names: distribution / mail-enabled security groups, else
# Microsoft 365 groups.
$groupMembers = [ordered]@{}
foreach ($g in $groups.Keys) {
    $members = @()
    try {
        $members = @(Get-DistributionGroupMember -Identity $g -ResultSize Unlimited)
    } catch {
        try { $members = @(Get-UnifiedGroupLinks -Identity $g -LinkType Members -ResultSize Unlimited) }
        catch { Write-Warning "cannot expand group ${g}: $($_.Exception.Message)" }
    }
    $groupMembers[$g] = @($members | ForEach-Object { "$($_.PrimarySmtpAddress)".ToLowerInvariant() } | Where-Object { $_ })
}

$hasExo = [bool](Get-Command Get-EXOCasMailbox -ErrorAction SilentlyContinue)
$mailboxes = @()
foreach ($u in $vipUsers) {
    $id = "$($u.UserPrincipalName)"
    try {
        if ($hasExo) {
            $cas = Get-EXOCasMailbox -Identity $id -PropertySets All
            $mbx = Get-EXOMailbox -Identity $id -Properties AuditEnabled
        } else {
            $cas = Get-CASMailbox -Identity $id
            $mbx = Get-Mailbox -Identity $id
        }
    } catch {
        Write-Warning "no mailbox settings for ${id}: $($_.Exception.Message)"
        continue
    }
    $mailboxes += [ordered]@{
        primarySmtpAddress               = "$($cas.PrimarySmtpAddress)".ToLowerInvariant()
        userPrincipalName                = $id.ToLowerInvariant()
        popEnabled                       = Get-Bool $cas 'PopEnabled'
        imapEnabled                      = Get-Bool $cas 'ImapEnabled'
        activeSyncEnabled                = Get-Bool $cas 'ActiveSyncEnabled'
        ewsEnabled                       = Get-Bool $cas 'EwsEnabled'
        mapiEnabled                      = Get-Bool $cas 'MAPIEnabled'
        smtpClientAuthenticationDisabled = Get-Bool $cas 'SmtpClientAuthenticationDisabled'
        auditEnabled                     = Get-Bool $mbx 'AuditEnabled'
    }
}

$snapshot = [ordered]@{
    schema                           = 'whalewatch.exchange-snapshot/1'
    generatedDateTime                = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    organization                     = "$($org.Name)"
    priorityAccountProtection        = Get-Bool $tenantSettings 'EnablePriorityAccountProtection'
    vips                             = $vips
    presetRules                      = $rules
    groupMembers                     = $groupMembers
    smtpClientAuthenticationDisabled = Get-Bool $transport 'SmtpClientAuthenticationDisabled'
    auditDisabled                    = Get-Bool $org 'AuditDisabled'
    mailboxes                        = $mailboxes
}

# -Depth: the default (2) would flatten the rules' arrays into strings.
$json = $snapshot | ConvertTo-Json -Depth 6
[System.IO.File]::WriteAllText($OutFile, $json, (New-Object System.Text.UTF8Encoding $false))
# Owner-only on Linux and macOS ($IsWindows exists only in PowerShell 7).
$onWindows = (-not (Get-Variable IsWindows -ErrorAction SilentlyContinue)) -or $IsWindows
if (-not $onWindows) { chmod 600 $OutFile }
Write-Host "wrote $OutFile ($($vips.Count) VIPs, $($rules.Count) preset rules, $($mailboxes.Count) mailboxes)"
