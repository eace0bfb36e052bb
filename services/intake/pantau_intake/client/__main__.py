from pantau_intake.client.cli import main

raise SystemExit(main())
