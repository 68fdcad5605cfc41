; Inno Setup 6 script: a per-user or all-users installer of the one-folder app (build it first with
; packaging/build.sh). Untested here (no Windows machine); CI runs it on windows-2022:
;   iscc /DAppVersion=0.1.0 packaging\windows\canns-gui.iss
; -> dist\installers\canns-gui-<version>-windows-x64-setup.exe
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{6E0B5C1E-3C59-4B7E-9C55-2F2B8F4C1A77}
AppName=canns-gui
AppVersion={#AppVersion}
AppPublisher=canns-gui developers
DefaultDirName={autopf}\canns-gui
DefaultGroupName=canns-gui
DisableProgramGroupPage=yes
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist\installers
OutputBaseFilename=canns-gui-{#AppVersion}-windows-x64-setup
UninstallDisplayIcon={app}\canns-gui.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\canns-gui\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\canns-gui"; Filename: "{app}\canns-gui.exe"
Name: "{autodesktop}\canns-gui"; Filename: "{app}\canns-gui.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\canns-gui.exe"; Description: "{cm:LaunchProgram,canns-gui}"; Flags: nowait postinstall skipifsilent
