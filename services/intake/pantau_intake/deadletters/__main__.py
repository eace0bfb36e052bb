from pantau_intake.deadletters.cli import main

raise SystemExit(main())
