from pantau_intake.credentials.cli import main

raise SystemExit(main())
